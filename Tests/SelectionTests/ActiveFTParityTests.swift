import Selection
import Testing

/// ActiveFT against recorded runs of the reference implementation (Tests/Fixtures/activeft).
@Suite struct ActiveFTParityTests {
    @Test(arguments: ["mix2k", "mix3k64"])
    func matchesReferenceLossesAndSelection(fixture: String) throws {
        let reference = try Fixtures.json("activeft/\(fixture)_reference.json", as: ActiveFTReference.self)
        let features = try Fixtures.features("activeft/\(fixture).h5")
        #expect(features.rows == reference.n && features.columns == reference.d)
        let parameters = ActiveFTParameters(
            temperature: reference.temperature, iterations: reference.iters, learningRate: reference.lr,
            balance: reference.balance, initialization: .rows(reference.init_ids))
        var generator = SeededGenerator(seed: 0)
        let result = try ActiveFT.select(features: features, budget: reference.k, parameters: parameters,
                                         generator: &generator)

        #expect(result.curve.count == reference.losses.count)
        let lossError = maxRelativeError(result.curve, reference.losses)
        #expect(lossError < 1e-4, "worst relative loss error \(lossError)")

        let selected = Set(result.picks.map(\.row))
        #expect(selected.count == reference.k)
        let differing = selected.subtracting(reference.selected_ids).count
        #expect(Double(differing) <= 0.02 * Double(reference.k), "\(differing) of \(reference.k) ids differ")
        #expect(result.initialRows == reference.init_ids)
    }
}
