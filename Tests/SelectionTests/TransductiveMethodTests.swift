import Foundation
import Numerics
@testable import Selection
import Testing

/// The `activeft` package's embedding-only acquisition functions: ITL, undirected ITL, CTL, cosine
/// similarity, and MaxDist (k-center from row 0) — against the package's recorded runs, a direct
/// recomputation by matrix inversion, and properties.
@Suite struct TransductiveMethodTests {
    struct Recorded: Decodable {
        struct Run: Decodable {
            let selected_rows: [Int]
            /// nil where the package's value is infinite (MaxDist's first pick).
            let values: [Double?]
        }
        let pool_rows: [Int]
        let target_rows: [Int]
        let noise_variance: Double
        let k: Int
        let runs: [String: Run]
    }

    static let recorded = try! Fixtures.json("methods/activeft_package.json", as: Recorded.self)

    static func fixtureProblem() throws -> SelectionProblem {
        let r = recorded
        let pool = try Fixtures.features("activeft/mix2k.h5", rows: r.pool_rows[0]..<r.pool_rows[1])
        let targets = try Fixtures.features("activeft/mix2k.h5", rows: r.target_rows[0]..<r.target_rows[1])
        return SelectionProblem(pool: pool, budget: r.k, inputs: ["targets": targets])
    }

    static func run(_ method: any SelectionMethod.Type, _ members: [String: ParameterValue] = [:],
                    _ problem: SelectionProblem, threads: Int = 2) throws -> SelectionResult {
        var context = SelectionContext(seed: 0, threads: threads)
        return try method.configure(members).select(problem, &context)
    }

    @Test(arguments: [("itl", true), ("undirected_itl", false), ("ctl", true), ("cosine", true)])
    func matchesThePackage(run name: String, targeted: Bool) throws {
        let reference = Self.recorded.runs[name]!
        var problem = try Self.fixtureProblem()
        if !targeted { problem = SelectionProblem(pool: problem.pool, budget: problem.budget) }
        let method: any SelectionMethod.Type = ["itl": ITL.self, "undirected_itl": ITL.self, "ctl": CTL.self,
                                                 "cosine": CosineSimilarity.self][name]!
        let result = try Self.run(method, [:], problem)
        #expect(result.picks.map(\.row) == reference.selected_rows, "\(name)")
        for (pick, value) in zip(result.picks, reference.values) {
            let value = try #require(value)
            #expect(pick.score.isApproximatelyEqual(to: value, relativeTolerance: 1e-4), "\(name): \(pick.score) vs \(value)")
        }
    }

    @Test func kCenterFromRowZeroIsThePackagesMaxDist() throws {
        let reference = Self.recorded.runs["maxdist"]!
        let problem = try Self.fixtureProblem()
        let result = try Self.run(KCenterGreedy.self, ["metric": .string("euclidean"), "first_row": .integer(0)],
                                  SelectionProblem(pool: problem.pool, budget: problem.budget))
        #expect(result.picks.map(\.row) == reference.selected_rows)
        // MaxDist's value is the squared distance (infinite for its first pick); k-center scores the distance.
        #expect(reference.values[0] == nil)
        for (pick, value) in zip(result.picks, reference.values).dropFirst() {
            let value = try #require(value)
            #expect((pick.score * pick.score).isApproximatelyEqual(to: value, relativeTolerance: 1e-4))
        }
    }

    // MARK: - Direct recomputation: the joint Gaussian, conditioned by matrix inversion

    /// Inverse of a small square matrix by Gauss–Jordan elimination with partial pivoting.
    static func inverse(_ m: [[Double]]) -> [[Double]] {
        let n = m.count
        var a = m.enumerated().map { i, row in row + (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for c in 0..<n {
            let p = (c..<n).max { abs(a[$0][c]) < abs(a[$1][c]) }!
            a.swapAt(c, p)
            let pivot = a[c][c]
            a[c] = a[c].map { $0 / pivot }
            for r in 0..<n where r != c {
                let f = a[r][c]
                a[r] = zip(a[r], a[c]).map { $0 - f * $1 }
            }
        }
        return a.map { Array($0[n...]) }
    }

    /// Covariance of all points (pool then targets) after noisy observations of `observed` pool rows.
    static func posterior(_ points: [[Double]], observed: [Int], noise: Double) -> [[Double]] {
        let k = points.map { x in points.map { y in zip(x, y).reduce(0) { $0 + $1.0 * $1.1 } } }
        guard !observed.isEmpty else { return k }
        var koo = observed.map { i in observed.map { k[i][$0] } }
        for i in 0..<observed.count { koo[i][i] += noise }
        let inv = inverse(koo)
        return (0..<points.count).map { a in
            (0..<points.count).map { b in
                var correction = 0.0
                for (i, oi) in observed.enumerated() {
                    for (j, oj) in observed.enumerated() { correction += k[a][oi] * inv[i][j] * k[oj][b] }
                }
                return k[a][b] - correction
            }
        }
    }

    /// Greedy selection by an explicit score over the posterior, picked rows excluded.
    static func directGreedy(pool: FeatureMatrix, targets: FeatureMatrix, budget: Int, noise: Double,
                             score: ([[Double]], Int, [Int]) -> Double) -> [Pick] {
        let points = (0..<pool.rows).map { pool.row($0).map(Double.init) } + (0..<targets.rows).map { targets.row($0).map(Double.init) }
        let targetIndices = Array(pool.rows..<points.count)
        var picked: [Int] = []
        var picks: [Pick] = []
        for _ in 0..<budget {
            let covariance = posterior(points, observed: picked, noise: noise)
            var best = -1, bestValue = -Double.infinity
            for j in 0..<pool.rows where !picked.contains(j) {
                let value = score(covariance, j, targetIndices)
                if value > bestValue { bestValue = value; best = j }
            }
            picked.append(best)
            picks.append(Pick(row: best, score: bestValue))
        }
        return picks
    }

    static func smallProblem(seed: UInt64) -> (FeatureMatrix, FeatureMatrix) {
        var generator = SeededGenerator(seed: seed)
        return (RandomProblem.features(rows: 30, columns: 6, generator: &generator),
                RandomProblem.features(rows: 5, columns: 6, generator: &generator))
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func itlEqualsTheInformationGainComputedByInversion(seed: UInt64) throws {
        let (pool, targets) = Self.smallProblem(seed: seed)
        let noise = 0.05
        let direct = Self.directGreedy(pool: pool, targets: targets, budget: 8, noise: noise) { cov, j, a in
            let caa = Self.inverse(a.map { p in a.map { cov[p][$0] + (p == $0 ? noise : 0) } })
            var reduction = 0.0
            for (i, p) in a.enumerated() { for (l, q) in a.enumerated() { reduction += cov[j][p] * caa[i][l] * cov[q][j] } }
            return 0.5 * max(0, log(cov[j][j] / (cov[j][j] - reduction)))
        }
        let result = try Self.run(ITL.self, ["noise_variance": .number(noise)],
                                  SelectionProblem(pool: pool, budget: 8, inputs: ["targets": targets]))
        #expect(result.picks.map(\.row) == direct.map(\.row))
        for (a, b) in zip(result.picks, direct) { #expect(a.score.isApproximatelyEqual(to: b.score, relativeTolerance: 1e-6)) }
    }

    @Test(arguments: [UInt64(1), 2])
    func undirectedITLAndCTLEqualTheirFormulasByInversion(seed: UInt64) throws {
        let (pool, targets) = Self.smallProblem(seed: seed)
        let noise = 0.05
        let variance = Self.directGreedy(pool: pool, targets: targets, budget: 8, noise: noise) { cov, j, _ in cov[j][j] }
        let undirected = try Self.run(ITL.self, ["noise_variance": .number(noise)], SelectionProblem(pool: pool, budget: 8))
        #expect(undirected.picks.map(\.row) == variance.map(\.row))
        for (a, b) in zip(undirected.picks, variance) { #expect(a.score.isApproximatelyEqual(to: b.score, relativeTolerance: 1e-6)) }

        let correlation = Self.directGreedy(pool: pool, targets: targets, budget: 8, noise: noise) { cov, j, a in
            a.map { cov[j][$0] / (cov[j][j] * cov[$0][$0]).squareRoot() }.reduce(0, +) / Double(a.count)
        }
        let ctl = try Self.run(CTL.self, ["noise_variance": .number(noise)],
                               SelectionProblem(pool: pool, budget: 8, inputs: ["targets": targets]))
        #expect(ctl.picks.map(\.row) == correlation.map(\.row))
        for (a, b) in zip(ctl.picks, correlation) { #expect(a.score.isApproximatelyEqual(to: b.score, relativeTolerance: 1e-6)) }
    }

    // MARK: - Properties

    @Test func undirectedITLScoresNeverIncreaseAndITLGainsAreNonNegative() throws {
        let (pool, targets) = Self.smallProblem(seed: 9)
        let undirected = try Self.run(ITL.self, [:], SelectionProblem(pool: pool, budget: 20))
        #expect(zip(undirected.picks, undirected.picks.dropFirst()).allSatisfy { $0.score >= $1.score - 1e-12 })
        let itl = try Self.run(ITL.self, [:], SelectionProblem(pool: pool, budget: 20, inputs: ["targets": targets]))
        #expect(itl.picks.allSatisfy { $0.score >= 0 })
        #expect(Set(itl.picks.map(\.row)).count == 20)
    }

    @Test func cosineScoresAreTheMeanCosineInDecreasingOrder() throws {
        let (pool, targets) = Self.smallProblem(seed: 4)
        let result = try Self.run(CosineSimilarity.self, [:], SelectionProblem(pool: pool, budget: 30, inputs: ["targets": targets]))
        let unitPool = pool.normalizedRows(), unitTargets = targets.normalizedRows()
        for pick in result.picks {
            let x = unitPool.row(pick.row)
            let mean = (0..<5).map { a in zip(x, unitTargets.row(a)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } }.reduce(0, +) / 5
            #expect(pick.score.isApproximatelyEqual(to: mean, absoluteTolerance: 1e-6))
        }
        #expect(zip(result.picks, result.picks.dropFirst()).allSatisfy { $0.score >= $1.score })
        #expect(result.picks.allSatisfy { abs($0.score) <= 1 + 1e-9 })
    }

    @Test func ctlAndCosineNeedTargets() throws {
        let (pool, _) = Self.smallProblem(seed: 1)
        for method in [CTL.self, CosineSimilarity.self] as [any SelectionMethod.Type] {
            #expect(throws: SelectionError.missingInput("targets")) {
                try method.withDefaults.validate(SelectionProblem(pool: pool, budget: 3).shape)
            }
        }
    }
}
