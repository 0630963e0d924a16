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

    /// In-place reordering: the rows of `selecting(rows:)`, for permutations with one long cycle,
    /// many short ones and fixed points; `restoreRows` with the same order undoes it; a copy sharing the
    /// storage keeps its order.
    @Test func permutingRowsInPlaceMatchesSelectingThem() {
        var generator = SeededGenerator(seed: 5)
        let matrix = RandomProblem.features(rows: 1_000, columns: 7, generator: &generator)
        let before = matrix.values.map { $0 }  // a copy of the values, not of the storage
        var shuffled = Array(0..<1_000)
        shuffled.shuffle(using: &generator)
        let swaps = (0..<1_000).map { $0 % 2 == 0 ? $0 + 1 : $0 - 1 }
        let oneCycle = (0..<1_000).map { ($0 + 1) % 1_000 }
        for order in [shuffled, swaps, oneCycle, Array(0..<1_000)] {
            var permuted = matrix
            permuted.permuteRows(order)
            #expect(permuted == matrix.selecting(rows: order))
            permuted.restoreRows(order)
            #expect(permuted == matrix)
        }
        #expect(matrix.values == before)
    }
}
