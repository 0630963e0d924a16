import Testing
@testable import Selection

/// What the runner refuses to record.
@Suite struct SelectionResultTests {
    @Test func firstNonFiniteNamesTheScoreOrTheCurveStep() {
        let fine = SelectionResult(picks: [Pick(row: 0, score: 1)], curveName: "loss", curve: [1, 2], initialRows: [])
        #expect(fine.firstNonFinite == nil)
        let score = SelectionResult(picks: [Pick(row: 0, score: 1), Pick(row: 3, score: .infinity)], curveName: "loss",
                                    curve: [1], initialRows: [])
        #expect(score.firstNonFinite == "score inf at rank 1")
        let curve = SelectionResult(picks: [], curveName: "loss", curve: [1, .nan], initialRows: [])
        #expect(curve.firstNonFinite == "loss nan at step 1")
    }
}
