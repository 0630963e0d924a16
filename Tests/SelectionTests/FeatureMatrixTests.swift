@testable import Selection
import Testing

@Suite struct FeatureMatrixTests {
    /// In-place normalisation: unit rows, the same values as the copying form, for every thread count.
    @Test func normalizingInPlaceMatchesTheCopyForEveryThreadCount() {
        var generator = SeededGenerator(seed: 3)
        let raw = RandomProblem.features(rows: 20_000, columns: 9, generator: &generator)
        let copy = raw.normalizedRows()
        for threads in [1, 2, 3] {
            var inPlace = raw
            inPlace.normalizeRows(threads: threads)
            #expect(inPlace == copy)
        }
        for i in [0, 8191, 8192, 19_999] {
            let norm = copy.row(i).reduce(0) { $0 + Double($1) * Double($1) }
            #expect(abs(norm - 1) < 1e-5)
        }
        #expect(raw != copy)  // the source was not changed through shared storage
    }
}
