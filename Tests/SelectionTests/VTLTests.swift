import Foundation
@testable import Selection
import Testing

/// A recorded run of the `activeft` package's VTL or UndirectedVTL.
struct VTLReference: Decodable {
    let n: Int
    let k: Int
    let selected_ids: [Int]
    let values: [Double]
    let noise_variance: Double
}

@Suite struct VTLParityTests {
    let pool: FeatureMatrix
    init() throws { pool = try Fixtures.features("activeft/mix2k.h5", rows: 0..<1500) }

    @Test func targetedVTLMatchesThePackage() throws {
        let reference = try Fixtures.json("vtl/mix2k_vtl_reference.json", as: VTLReference.self)
        let targets = try Fixtures.features("activeft/mix2k.h5", rows: 1500..<1550)
        let result = try VTL.select(pool: pool, targets: targets, budget: reference.k,
                                    parameters: VTLParameters(noiseVariance: reference.noise_variance))
        #expect(result.picks.map(\.row) == reference.selected_ids)
        #expect(maxRelativeError(result.picks.map(\.score), reference.values) < 1e-4)
    }

    @Test func undirectedVTLMatchesThePackage() throws {
        let reference = try Fixtures.json("vtl/mix2k_undirected_vtl_reference.json", as: VTLReference.self)
        let result = try VTL.select(pool: pool, targets: nil, budget: reference.k,
                                    parameters: VTLParameters(noiseVariance: reference.noise_variance))
        #expect(result.picks.map(\.row) == reference.selected_ids)
        #expect(maxRelativeError(result.picks.map(\.score), reference.values) < 1e-4)
    }
}

/// The rank-one updates against a direct recomputation of the posterior, and VTL's properties.
@Suite struct VTLTests {
    /// Greedy VTL recomputed from scratch at every pick: Σ = (I + Σ_picked x xᵀ/σ²)⁻¹ is the posterior
    /// covariance of the weights; each candidate's value is −tr(A Σ' Aᵀ) with Σ' after adding it.
    /// O(K·N·(d³ + m·d²)) — small problems only.
    func directGreedy(pool: FeatureMatrix, targets: FeatureMatrix, budget: Int, noise: Double) -> [(Int, Double)] {
        let d = pool.columns
        func row(_ m: FeatureMatrix, _ i: Int) -> [Double] { m.row(i).map(Double.init) }
        var precision = (0..<(d * d)).map { $0 % (d + 1) == 0 ? 1.0 : 0.0 }
        var chosen: [(Int, Double)] = []
        for _ in 0..<budget {
            var best = (-1, -Double.infinity)
            for j in 0..<pool.rows where !chosen.contains(where: { $0.0 == j }) {
                var candidate = precision
                let x = row(pool, j)
                for a in 0..<d { for b in 0..<d { candidate[a * d + b] += x[a] * x[b] / noise } }
                let covariance = invert(candidate, size: d)
                var total = 0.0
                for t in 0..<targets.rows {
                    let a = row(targets, t)
                    for p in 0..<d { for q in 0..<d { total += a[p] * covariance[p * d + q] * a[q] } }
                }
                if -total > best.1 { best = (j, -total) }
            }
            let x = row(pool, best.0)
            for a in 0..<d { for b in 0..<d { precision[a * d + b] += x[a] * x[b] / noise } }
            chosen.append(best)
        }
        return chosen
    }

    /// Gauss–Jordan inverse of a small symmetric positive-definite matrix.
    func invert(_ m: [Double], size n: Int) -> [Double] {
        var a = m
        var inverse = (0..<(n * n)).map { $0 % (n + 1) == 0 ? 1.0 : 0.0 }
        for col in 0..<n {
            let pivot = a[col * n + col]
            for j in 0..<n { a[col * n + j] /= pivot; inverse[col * n + j] /= pivot }
            for r in 0..<n where r != col {
                let factor = a[r * n + col]
                for j in 0..<n { a[r * n + j] -= factor * a[col * n + j]; inverse[r * n + j] -= factor * inverse[col * n + j] }
            }
        }
        return inverse
    }

    func problem(seed: UInt64, rows: Int, columns: Int) -> FeatureMatrix {
        var generator = SeededGenerator(seed: seed)
        return RandomProblem.features(rows: rows, columns: columns, generator: &generator)
    }

    @Test(arguments: [(UInt64(1), 0.01), (2, 0.5), (3, 2.0)])
    func rankOneUpdatesEqualDirectRecomputation(seed: UInt64, noise: Double) throws {
        let pool = problem(seed: seed, rows: 40, columns: 5)
        let targets = problem(seed: seed + 50, rows: 7, columns: 5)
        let result = try VTL.select(pool: pool, targets: targets, budget: 12,
                                    parameters: VTLParameters(noiseVariance: noise))
        let direct = directGreedy(pool: pool, targets: targets, budget: 12, noise: noise)
        #expect(result.picks.map(\.row) == direct.map(\.0))
        #expect(maxRelativeError(result.picks.map(\.score), direct.map(\.1)) < 1e-9)
    }

    @Test func undirectedEqualsVTLWithThePoolAsTargets() throws {
        let pool = problem(seed: 8, rows: 200, columns: 9)
        let undirected = try VTL.select(pool: pool, targets: nil, budget: 30, parameters: VTLParameters())
        let targeted = try VTL.select(pool: pool, targets: pool, budget: 30, parameters: VTLParameters())
        #expect(undirected.picks.map(\.row) == targeted.picks.map(\.row))
        #expect(maxRelativeError(undirected.picks.map(\.score), targeted.picks.map(\.score)) < 1e-12)
    }

    @Test func budgetOfTheWholePoolPicksEverySampleOnceAndVarianceOnlyFalls() throws {
        let pool = problem(seed: 4, rows: 60, columns: 4)
        let result = try VTL.select(pool: pool, targets: nil, budget: 60, parameters: VTLParameters())
        #expect(Set(result.picks.map(\.row)).count == 60)
        #expect(zip(result.curve, result.curve.dropFirst()).allSatisfy { $0.0 <= $0.1 + 1e-9 })
    }

    @Test func prefilterKeepsTheRowsMostAlignedWithTheMeanTarget() throws {
        let pool = FeatureMatrix(rows: 5, columns: 2, values: [1, 0, 0, 1, -3, 0, 0.5, 0.5, 2, 0])
        let targets = FeatureMatrix(rows: 2, columns: 2, values: [1, 0.2, 1, -0.2])
        #expect(VTL.prefilterRows(pool: pool, targets: targets, keep: 2) == [2, 4])
        let result = try VTL.select(pool: pool, targets: targets, budget: 2,
                                    parameters: VTLParameters(prefilter: 2))
        #expect(Set(result.picks.map(\.row)) == [2, 4])
    }

    @Test func normalizeEqualsSelectingOnNormalisedInputs() throws {
        let pool = problem(seed: 6, rows: 80, columns: 6), targets = problem(seed: 7, rows: 5, columns: 6)
        let inside = try VTL.select(pool: pool, targets: targets, budget: 10, parameters: VTLParameters(normalize: true))
        let outside = try VTL.select(pool: pool.normalizedRows(), targets: targets.normalizedRows(), budget: 10,
                                     parameters: VTLParameters())
        #expect(inside.picks == outside.picks)
    }

    @Test(arguments: [
        (10, 3, 3, 0, VTLParameters(), SelectionError.budgetOutOfRange(budget: 0, poolSize: 10)),
        (10, 3, 3, 11, VTLParameters(), .budgetOutOfRange(budget: 11, poolSize: 10)),
        (10, 3, 4, 2, VTLParameters(), .targetWidthMismatch(poolWidth: 3, targetWidth: 4)),
        (10, 3, 3, 2, VTLParameters(noiseVariance: 0), .noiseVarianceOutOfRange(0)),
        (10, 3, 3, 5, VTLParameters(prefilter: 4), .budgetExceedsPrefilter(budget: 5, prefilter: 4)),
    ])
    func validateRejects(rows: Int, width: Int, targetWidth: Int, budget: Int, parameters: VTLParameters,
                         expected: SelectionError) {
        #expect(throws: expected) {
            try VTL.validate(poolSize: rows, poolWidth: width, targetWidth: targetWidth, budget: budget,
                             parameters: parameters)
        }
    }
}
