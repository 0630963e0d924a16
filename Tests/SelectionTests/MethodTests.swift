import Foundation
import Numerics
@testable import Selection
import Testing

/// Each method three ways: against a reference run (fixture) where one exists, against a direct
/// (slow, double-precision, N×N) recomputation on small problems, and by the properties its paper states.
@Suite struct MethodTests {
    let pool = MethodRegistryTests.pool(rows: 240, columns: 10)

    func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    // MARK: random

    @Test func randomIsTheSeededGeneratorsDraw() throws {
        var generator = SeededGenerator(seed: 9)
        let expected = generator.distinctIndices(count: 20, from: pool.rows)
        let result = try MethodRegistryTests.run(RandomSampling.self, pool: pool, budget: 20, seed: 9)
        #expect(result.picks.map(\.row) == expected)
        #expect(try MethodRegistryTests.run(RandomSampling.self, pool: pool, budget: 20, seed: 10).picks.map(\.row) != expected)
    }

    // MARK: k-center

    /// Farthest-first traversal with explicit distances in double.
    func directKCenter(_ x: FeatureMatrix, first: Int, count: Int, cosine: Bool) -> [Int] {
        let rows = (0..<x.rows).map { x.row($0) }
        func distance(_ a: Int, _ b: Int) -> Double {
            if cosine { return 1 - dot(rows[a], rows[b]) }
            return zip(rows[a], rows[b]).reduce(0) { $0 + pow(Double($1.0) - Double($1.1), 2) }.squareRoot()
        }
        var picks = [first]
        while picks.count < count {
            let next = (0..<x.rows).filter { !picks.contains($0) }
                .max { a, b in picks.map { distance(a, $0) }.min()! < picks.map { distance(b, $0) }.min()! }!
            picks.append(next)
        }
        return picks
    }

    @Test(arguments: [KCenterGreedy.Parameters.Metric.cosine, .euclidean])
    func kCenterIsTheDirectFarthestFirstTraversal(metric: KCenterGreedy.Parameters.Metric) throws {
        var context = SelectionContext(seed: 3, threads: 2)
        let result = try KCenterGreedy.select(SelectionProblem(pool: pool, budget: 25), .init(metric: metric), &context)
        let x = metric == .cosine ? pool.normalizedRows() : pool
        #expect(result.picks.map(\.row) == directKCenter(x, first: result.picks[0].row, count: 25, cosine: metric == .cosine))
    }

    @Test func kCentersCoveringRadiusNeverIncreasesAndEachPickWasTheFarthest() throws {
        let result = try MethodRegistryTests.run(KCenterGreedy.self, pool: pool, budget: 40)
        #expect(result.curve.count == 40)
        for (a, b) in zip(result.curve, result.curve.dropFirst()) { #expect(b <= a) }
        // Pick i + 1 was at the covering radius of picks 0...i.
        for i in 1..<40 { #expect(result.picks[i].score.isApproximatelyEqual(to: result.curve[i - 1], relativeTolerance: 1e-12)) }
    }

    // MARK: k-means

    struct SklearnKMeans: Decodable {
        let k: Int
        let init_rows: [Int]
        let labels: [Int]
        let centres: [Double]
        let iterations: Int
        let inertia: Double
    }

    @Test func kMeansReproducesScikitLearnFromTheSameInitialCentres() throws {
        let reference = try Fixtures.json("methods/kmeans_sklearn.json", as: SklearnKMeans.self)
        let unit = try Fixtures.features("activeft/mix2k.h5").normalizedRows()
        let clustering = KMeansClustering(unit: unit, spherical: false, threads: 2)
        let result = try clustering.lloyd(initialRows: reference.init_rows, maxIterations: 300, tolerance: 1e-4,
                                          shouldStop: { false })
        #expect(result.assignment.map(Int.init) == reference.labels)
        #expect(result.iterations == reference.iterations)
        #expect(zip(result.centres, reference.centres).allSatisfy { $0.isApproximatelyEqual(to: $1, absoluteTolerance: 1e-5) })
        #expect(result.inertia.isApproximatelyEqual(to: reference.inertia, relativeTolerance: 1e-4))
    }

    /// Lloyd with explicit distances in double, from the same rows.
    func directLloyd(_ unit: FeatureMatrix, initialRows: [Int], iterations: Int) -> [Int] {
        let d = unit.columns
        var centres = initialRows.map { unit.row($0).map(Double.init) }
        var labels: [Int] = []
        for _ in 0..<iterations {
            labels = (0..<unit.rows).map { i in
                let x = unit.row(i).map(Double.init)
                return centres.indices.min { a, b in
                    zip(x, centres[a]).reduce(0) { $0 + pow($1.0 - $1.1, 2) } < zip(x, centres[b]).reduce(0) { $0 + pow($1.0 - $1.1, 2) }
                }!
            }
            for c in centres.indices {
                let members = labels.indices.filter { labels[$0] == c }
                guard !members.isEmpty else { continue }
                centres[c] = (0..<d).map { j in members.reduce(0) { $0 + Double(unit.values[$1 * d + j]) } / Double(members.count) }
            }
        }
        return labels
    }

    @Test func kMeansAssignmentsAreTheDirectLloydsAndItsInertiaNeverIncreases() throws {
        let unit = pool.normalizedRows()
        let rows = Array(stride(from: 0, to: 240, by: 24))
        let clustering = KMeansClustering(unit: unit, spherical: false, threads: 2)
        let result = try clustering.lloyd(initialRows: rows, maxIterations: 6, tolerance: 1e-12, shouldStop: { false })
        #expect(result.assignment.map(Int.init) == directLloyd(unit, initialRows: rows, iterations: 6))
        for (a, b) in zip(result.curve, result.curve.dropFirst()) { #expect(b <= a * (1 + 1e-6)) }
    }

    @Test func kMeansPicksTheNearestRowOfEachClusterLargestFirst() throws {
        let result = try MethodRegistryTests.run(KMeansSelection.self, pool: pool, budget: 12)
        // The pool has 12 equal groups: each pick stands for a cluster, sizes in non-increasing order.
        for (a, b) in zip(result.picks, result.picks.dropFirst()) { #expect(b.score <= a.score) }
        #expect(result.picks.reduce(0) { $0 + $1.score } == Double(pool.rows))
        #expect(Set(result.picks.map { $0.row % 12 }).count == 12)
    }

    @Test func kMeansPlusPlusSeedsAreDistinctAndSeeded() {
        let clustering = KMeansClustering(unit: pool.normalizedRows(), spherical: false, threads: 1)
        var a = SeededGenerator(seed: 4), b = SeededGenerator(seed: 4)
        let seeds = clustering.seed(k: 30, generator: &a)
        #expect(Set(seeds).count == 30)
        #expect(clustering.seed(k: 30, generator: &b) == seeds)
        // ActiveFT's "kmeans++" init starts from exactly these rows.
        var parameters = ActiveFTParameters(iterations: 1, initialization: .kMeansPlusPlus)
        parameters.iterations = 1
        var generator = SeededGenerator(seed: 4)
        let activeFT = try? ActiveFT.select(features: pool, budget: 30, parameters: parameters, generator: &generator)
        #expect(activeFT?.initialRows == seeds)
    }

    // MARK: TypiClust

    @Test func typicalityIsTheDirectMeanSquaredDistanceToTheNearestNeighbours() {
        let unit = pool.normalizedRows().selecting(rows: Array(0..<50))
        let (best, typicality) = TypiClust.mostTypical(unit, neighbors: 7, threads: 2)
        let direct = (0..<50).map { i -> Double in
            let distances = (0..<50).filter { $0 != i }.map { j in
                zip(unit.row(i), unit.row(j)).reduce(0) { $0 + pow(Double($1.0) - Double($1.1), 2) }
            }.sorted()
            return 1 / (distances.prefix(7).reduce(0, +) / 7 + 1e-5)
        }
        let directBest = direct.indices.max { direct[$0] < direct[$1] }!
        #expect(best == directBest)
        #expect(typicality.isApproximatelyEqual(to: direct[directBest], relativeTolerance: 1e-4))
    }

    @Test func typiClustTakesOneSampleFromEachClusterLargeEnough() throws {
        let result = try MethodRegistryTests.run(TypiClust.self, pool: pool, budget: 12)
        // 12 clusters of 20 and K = 12: one pick per generating group.
        #expect(Set(result.picks.map { $0.row % 12 }).count == 12)
        #expect(result.curve == result.picks.map(\.score))
    }

    // MARK: ProbCover

    /// Greedy max coverage on the dense δ-graph, in double.
    func directProbCover(_ unit: FeatureMatrix, delta: Double, count: Int) -> [Int] {
        let n = unit.rows
        let rows = (0..<n).map { unit.row($0) }
        let adjacent = (0..<n).map { i in (0..<n).map { j in i == j || (2 - 2 * dot(rows[i], rows[j])).squareRoot() < delta } }
        var covered = [Bool](repeating: false, count: n)
        var picks: [Int] = []
        while picks.count < count {
            let gains = (0..<n).map { i in (0..<n).filter { adjacent[i][$0] && !covered[$0] }.count }
            let best = (0..<n).filter { !picks.contains($0) }.max { (gains[$0], -$0) < (gains[$1], -$1) }!
            picks.append(best)
            for j in 0..<n where adjacent[best][j] { covered[j] = true }
        }
        return picks
    }

    @Test func probCoverIsTheDirectGreedyMaxCoverage() throws {
        var context = SelectionContext(seed: 1, threads: 2)
        var parameters = ProbCover.Parameters()
        parameters.delta = 0.5
        let result = try ProbCover.select(SelectionProblem(pool: pool, budget: 20), parameters, &context)
        #expect(result.picks.map(\.row) == directProbCover(pool.normalizedRows(), delta: 0.5, count: 20))
        // Coverage only grows; each pick covers no more new samples than the one before it.
        for (a, b) in zip(result.curve, result.curve.dropFirst()) { #expect(b >= a) }
        for (a, b) in zip(result.picks, result.picks.dropFirst()) { #expect(b.score <= a.score) }
    }

    /// With `choose_delta`: δ is the largest radius whose balls are pure (no sample of another k-means
    /// cluster closer than δ) for at least `purity` of the samples, checked by counting pure balls in
    /// double for that δ and one a little larger; the run uses it (its picks are the direct greedy's).
    @Test func probCoverChoosesTheLargestDeltaOfEnoughPureBalls() throws {
        let unit = pool.normalizedRows()
        var generator = SeededGenerator(seed: 1)
        let kmeans = KMeansClustering(unit: unit, spherical: false, threads: 1)
        let seeds = kmeans.seed(k: 10, generator: &generator)
        let assignment = try kmeans.lloyd(initialRows: seeds, maxIterations: 100, tolerance: 1e-4, shouldStop: { false }).assignment
        let rows = (0..<unit.rows).map { unit.row($0) }
        func pureShare(_ delta: Double) -> Double {
            let pure = (0..<unit.rows).filter { i in
                !(0..<unit.rows).contains { j in assignment[j] != assignment[i] && (2 - 2 * dot(rows[i], rows[j])).squareRoot() < delta }
            }
            return Double(pure.count) / Double(unit.rows)
        }
        var context = SelectionContext(seed: 1, threads: 2)
        var parameters = ProbCover.Parameters()
        parameters.chooseDelta = true
        parameters.purity = 0.8
        let result = try ProbCover.select(SelectionProblem(pool: pool, budget: 12), parameters, &context)
        let delta = try #require(result.notes["delta"])
        // Each sample's distance to the nearest sample of another cluster; δ is the ⌈0.8·N⌉-th largest.
        let nearestOther = (0..<unit.rows).map { i in
            (0..<unit.rows).filter { assignment[$0] != assignment[i] }.map { (2 - 2 * dot(rows[i], rows[$0])).squareRoot() }.min()!
        }.sorted()
        let expected = nearestOther[unit.rows - Int((0.8 * Double(unit.rows)).rounded(.up))]
        #expect(abs(delta - expected) < 1e-5, "δ = \(delta), expected \(expected)")
        #expect(pureShare(delta) >= 0.8 && pureShare(nearestOther.first { $0 > delta + 1e-5 }!) < 0.8)
        #expect(result.picks.map(\.row) == directProbCover(unit, delta: delta, count: 12))
    }

    @Test func probCoverRefusesADeltaWhoseGraphIsTooLarge() {
        var parameters = ProbCover.Parameters()
        parameters.delta = 2
        parameters.maxEdges = 1000
        var context = SelectionContext(seed: 1)
        #expect(throws: SelectionError.self) {
            _ = try ProbCover.select(SelectionProblem(pool: pool, budget: 5), parameters, &context)
        }
    }

    // MARK: herding (facility location)

    struct ApricotFacilityLocation: Decodable {
        let n: Int
        let k: Int
        let bandwidth: Double
        let ranking: [Int]
        let gains: [Double]
    }

    @Test func herdingReproducesApricotsFacilityLocation() throws {
        let reference = try Fixtures.json("methods/herding_apricot.json", as: ApricotFacilityLocation.self)
        let features = try Fixtures.features("activeft/mix2k.h5", rows: 0..<reference.n)
        var context = SelectionContext(seed: 0, threads: 2)
        let result = try Herding.select(SelectionProblem(pool: features, budget: reference.k),
                                        .init(kernel: .gaussian, bandwidth: reference.bandwidth), &context)
        #expect(result.picks.map(\.row) == reference.ranking)
        #expect(zip(result.picks, reference.gains).allSatisfy { $0.score.isApproximatelyEqual(to: $1, relativeTolerance: 1e-4) })
    }

    /// Naive greedy facility location with the kernel in double.
    func directFacilityLocation(_ unit: FeatureMatrix, bandwidth: Double, count: Int) -> [Int] {
        let n = unit.rows
        let rows = (0..<n).map { unit.row($0) }
        let kernel = (0..<n).map { i in (0..<n).map { j in exp((dot(rows[i], rows[j]) - 1) / (bandwidth * bandwidth)) } }
        var current = [Double](repeating: 0, count: n)
        var picks: [Int] = []
        while picks.count < count {
            let gains = (0..<n).map { c in (0..<n).reduce(0) { $0 + max(0, kernel[$1][c] - current[$1]) } }
            let best = (0..<n).filter { !picks.contains($0) }.max { (gains[$0], -$0) < (gains[$1], -$1) }!
            picks.append(best)
            for x in 0..<n { current[x] = max(current[x], kernel[x][best]) }
        }
        return picks
    }

    @Test func herdingIsTheDirectGreedyAndItsGainsShrink() throws {
        var context = SelectionContext(seed: 0, threads: 2)
        let result = try Herding.select(SelectionProblem(pool: pool, budget: 25), .init(kernel: .gaussian, bandwidth: 0.4),
                                        &context)
        #expect(result.picks.map(\.row) == directFacilityLocation(pool.normalizedRows(), bandwidth: 0.4, count: 25))
        // Submodularity: each gain is at most the one before; the objective only grows.
        for (a, b) in zip(result.picks, result.picks.dropFirst()) { #expect(b.score <= a.score * (1 + 1e-6)) }
        for (a, b) in zip(result.curve, result.curve.dropFirst()) { #expect(b >= a) }
    }
}
