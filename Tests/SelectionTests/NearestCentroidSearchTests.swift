import Foundation
@testable import Selection
import Testing

/// The pruned nearest-centroid search against the plain full comparison, on drifting centroids.
@Suite struct NearestCentroidSearchTests {
    /// Clustered unit features (a few tight groups), so many centroids compete for each sample.
    func clustered(seed: UInt64, rows: Int, columns: Int, clusters: Int) -> FeatureMatrix {
        var generator = SeededGenerator(seed: seed)
        let centres = RandomProblem.features(rows: clusters, columns: columns, generator: &generator)
        var values: [Float] = []
        for _ in 0..<rows {
            let c = Int.random(in: 0..<clusters, using: &generator)
            for j in 0..<columns { values.append(centres.values[c * columns + j] + Float(RandomProblem.gaussian(&generator)) * 0.3) }
        }
        return FeatureMatrix(rows: rows, columns: columns, values: values).normalizedRows()
    }

    /// Moves every centroid by a random step of about `size`, then renormalises.
    func drift(_ centroids: inout FeatureMatrix, size: Double, generator: inout SeededGenerator) {
        let moved = centroids.values.map { $0 + Float(RandomProblem.gaussian(&generator) * size) }
        centroids = FeatureMatrix(rows: centroids.rows, columns: centroids.columns, values: moved).normalizedRows()
    }

    /// Calls `pruned` and a plain full search (no pruning) side by side `steps` times on the rows
    /// `batch` draws for each step (nil: every row), drifting the centroids by `stepSize` after each
    /// call, and expects identical nearest centroids and similarities every time. Returns the full
    /// search, whose comparison count is N·K per call.
    @discardableResult
    func expectPrunedEqualsFull(_ pruned: inout NearestCentroidSearch, features: FeatureMatrix,
                                centroids: inout FeatureMatrix, steps: Int, stepSize: Double,
                                generator: inout SeededGenerator,
                                batch: (Int, inout SeededGenerator) -> [Int]? = { _, _ in nil }) -> NearestCentroidSearch {
        var full = NearestCentroidSearch(samples: features.rows, centroids: centroids.rows, pruning: false, threads: 1)
        for step in 0..<steps {
            let rows = batch(step, &generator)
            let a = pruned.assign(rows: rows, features: features, centroids: centroids.values)
            let b = full.assign(rows: rows, features: features, centroids: centroids.values)
            #expect(a.nearest == b.nearest, "step \(step)")
            #expect(a.similarity == b.similarity, "step \(step)")
            drift(&centroids, size: stepSize, generator: &generator)
        }
        return full
    }

    @Test(arguments: [(UInt64(1), 0.002), (2, 0.01), (3, 0.05)])
    func prunedEqualsFullAtEveryStep(seed: UInt64, stepSize: Double) {
        let features = clustered(seed: seed, rows: 3000, columns: 24, clusters: 6)
        var generator = SeededGenerator(seed: seed + 10)
        var centroids = features.selecting(rows: generator.distinctIndices(count: 80, from: 3000))
        var pruned = NearestCentroidSearch(samples: 3000, centroids: 80, pruning: true, threads: 2)
        let full = expectPrunedEqualsFull(&pruned, features: features, centroids: &centroids, steps: 40,
                                          stepSize: stepSize / 5, generator: &generator)
        #expect(full.fullComparisons == 40 * 3000)
        if stepSize < 0.05 {
            #expect(pruned.fullComparisons < 40 * 3000 / 3, "pruning saved too little: \(pruned.fullComparisons)")
        }
    }

    /// Rows reordered mid-run (the features and the search's state together, as ActiveFT does after
    /// its first iteration) get the same answers as the plain full search in the old order, with both
    /// kinds of pruning (group bounds, and the target search from ``SearchTuning/groupedFrom``
    /// centroids), and the pruning keeps working after the reorder.
    @Test(arguments: [80, SearchTuning.groupedFrom + 52])
    func reorderedRowsKeepTheirAnswers(k: Int) {
        let n = 4000
        let features = clustered(seed: 41, rows: n, columns: 24, clusters: 8)
        var generator = SeededGenerator(seed: 42)
        var centroids = features.selecting(rows: generator.distinctIndices(count: k, from: n))
        var pruned = NearestCentroidSearch(samples: n, centroids: k, pruning: true, threads: 2)
        var full = NearestCentroidSearch(samples: n, centroids: k, pruning: false, threads: 1)
        var reordered = features
        var order = Array(0..<n)
        for step in 0..<12 {
            if step == 3 {
                order.shuffle(using: &generator)
                reordered.permuteRows(order)
                pruned.permuteRows(order)
            }
            let before = (pruned.fullComparisons, pruned.settledByBounds + pruned.settledByCandidates)
            let a = pruned.assign(rows: nil, features: reordered, centroids: centroids.values)
            let b = full.assign(rows: nil, features: features, centroids: centroids.values)
            #expect(order.indices.allSatisfy { a.nearest[$0] == b.nearest[order[$0]] }, "step \(step)")
            #expect(order.indices.allSatisfy { a.similarity[$0] == b.similarity[order[$0]] }, "step \(step)")
            if step >= 4 {
                let settled = pruned.settledByBounds + pruned.settledByCandidates - before.1
                #expect(pruned.fullComparisons - before.0 < n / 4 && settled > n / 2,
                        "step \(step): \(pruned.fullComparisons - before.0) full, \(settled) settled")
            }
            drift(&centroids, size: 0.0004, generator: &generator)
        }
    }

    @Test func prunedEqualsFullOnRandomBatches() {
        let features = clustered(seed: 4, rows: 2000, columns: 16, clusters: 5)
        var generator = SeededGenerator(seed: 5)
        var centroids = features.selecting(rows: generator.distinctIndices(count: 40, from: 2000))
        var pruned = NearestCentroidSearch(samples: 2000, centroids: 40, pruning: true, threads: 2)
        expectPrunedEqualsFull(&pruned, features: features, centroids: &centroids, steps: 30, stepSize: 0.002,
                               generator: &generator) { _, generator in generator.distinctIndices(count: 700, from: 2000) }
    }

    @Test func activeFTWithPruningEqualsTheUnprunedObjective() throws {
        let features = clustered(seed: 6, rows: 1500, columns: 20, clusters: 4)
        let parameters = ActiveFTParameters(iterations: 80, initialization: .rows(Array(stride(from: 0, to: 1500, by: 50))))
        var generator = SeededGenerator(seed: 0)
        let pruned = try ActiveFT.select(features: features, budget: 30, parameters: parameters, generator: &generator)

        // The same optimisation, comparing every sample with every centroid at every iteration.
        let unit = features.normalizedRows()  // as ActiveFT.select normalises its input
        let objective = ActiveFTObjective(features: unit, temperature: 0.07, balance: 1)
        var theta = unit.selecting(rows: Array(stride(from: 0, to: 1500, by: 50))).values.map(Double.init)
        var adam = AdamOptimizer(count: theta.count, learningRate: 0.001)
        var losses: [Double] = []
        for _ in 0..<80 {
            let (loss, gradient) = objective.lossAndGradient(centroids: theta)
            losses.append(loss)
            adam.step(parameters: &theta, gradient: gradient)
        }
        let picks = ActiveFT.assignDistinct(features: unit, centroids: ActiveFT.normalizedRows(theta, columns: 20))
        #expect(pruned.curve == losses, "worst relative difference \(maxRelativeError(pruned.curve, losses))")
        #expect(pruned.picks.map(\.row) == picks.map(\.row))
    }

    @Test func resultsDoNotDependOnTheThreadCount() throws {
        let features = clustered(seed: 7, rows: 20_000, columns: 12, clusters: 5)
        func run(threads: Int) throws -> SelectionResult {
            var generator = SeededGenerator(seed: 1)
            return try ActiveFT.select(features: features, budget: 25, parameters: ActiveFTParameters(iterations: 15),
                                       generator: &generator, threads: threads)
        }
        let one = try run(threads: 1), two = try run(threads: 2), three = try run(threads: 3)
        #expect(one.curve == two.curve && one.curve == three.curve)
        #expect(one.picks == two.picks && one.picks == three.picks)
    }

    /// With many centroids (G capped at ``SearchTuning/largestGroupCount``, over 30 centroids
    /// a group): the same answers as the full pass, bit for bit, over all rows and over batches, as the
    /// centroids drift; after the first pass, few samples are recomputed against every centroid.
    @Test func groupedBoundsEqualFullWithManyCentroids() {
        let k = SearchTuning.groupedFrom - 48
        let features = clustered(seed: 8, rows: 5000, columns: 16, clusters: 30)
        var generator = SeededGenerator(seed: 9)
        var centroids = features.selecting(rows: generator.distinctIndices(count: k, from: 5000))
        var pruned = NearestCentroidSearch(samples: 5000, centroids: k, pruning: true, threads: 2)
        #expect(pruned.groupCount == SearchTuning.largestGroupCount && !pruned.searchesTargets)
        expectPrunedEqualsFull(&pruned, features: features, centroids: &centroids, steps: 6, stepSize: 0.0005,
                               generator: &generator) { step, generator in
            step.isMultiple(of: 2) ? nil : generator.distinctIndices(count: 1700, from: 5000)
        }
        // The first call compares every sample; the five after it recompute a fraction.
        #expect(pruned.fullComparisons - 5000 < (3 * 5000 + 2 * 1700) / 4, "\(pruned.fullComparisons)")
    }

    /// The group comparisons (test 2) are exercised: samples settle there without a full pass.
    @Test func groupComparisonsSettleSamples() {
        let features = clustered(seed: 11, rows: 3000, columns: 24, clusters: 6)
        var generator = SeededGenerator(seed: 12)
        var centroids = features.selecting(rows: generator.distinctIndices(count: 200, from: 3000))
        var pruned = NearestCentroidSearch(samples: 3000, centroids: 200, pruning: true, threads: 2)
        expectPrunedEqualsFull(&pruned, features: features, centroids: &centroids, steps: 10, stepSize: 0.002,
                               generator: &generator)
        #expect(pruned.prunedComparisons > 0)
        #expect(pruned.fullComparisons < 3000 + 9 * 3000 / 4, "\(pruned.fullComparisons)")
    }

    /// From ``SearchTuning/groupedFrom`` centroids on, a target search each call: the same
    /// answers as the full pass, bit for bit, over all rows and over batches, as the centroids drift.
    @Test func targetSearchEqualsFullWithManyCentroids() {
        let k = SearchTuning.groupedFrom + 52
        let features = clustered(seed: 8, rows: 5000, columns: 16, clusters: 30)
        var generator = SeededGenerator(seed: 9)
        var centroids = features.selecting(rows: generator.distinctIndices(count: k, from: 5000))
        var pruned = NearestCentroidSearch(samples: 5000, centroids: k, pruning: true, threads: 2)
        #expect(pruned.searchesTargets && pruned.groupCount == 0)
        let full = expectPrunedEqualsFull(&pruned, features: features, centroids: &centroids, steps: 4,
                                          stepSize: 0.002, generator: &generator) { step, generator in
            step.isMultiple(of: 2) ? nil : generator.distinctIndices(count: 1700, from: 5000)
        }
        // The target search computed a fraction of the N·K similarities of each pass.
        #expect(pruned.fullComparisons == 0)
        #expect(pruned.prunedComparisons < full.fullComparisons * k / 2, "\(pruned.prunedComparisons) of \(full.fullComparisons * k)")
    }

    /// With many centroids moving slowly, most samples are settled by their kept candidates in later
    /// calls — and a centroid that jumps onto samples others had settled takes them, as the full pass
    /// says, because every other centroid's bound grows by the largest movement.
    @Test func candidatesSettleSlowlyMovingCentroidsAndAJumpIsSeen() {
        let k = SearchTuning.groupedFrom + 52, n = 4000
        let features = clustered(seed: 21, rows: n, columns: 16, clusters: 30)
        var generator = SeededGenerator(seed: 22)
        var centroids = features.selecting(rows: generator.distinctIndices(count: k, from: n))
        var pruned = NearestCentroidSearch(samples: n, centroids: k, pruning: true, threads: 2)
        expectPrunedEqualsFull(&pruned, features: features, centroids: &centroids, steps: 6, stepSize: 0.0002,
                               generator: &generator)
        #expect(pruned.settledByCandidates > 4 * n / 2, "settled \(pruned.settledByCandidates) of \(5 * n)")
        // Centroid 0 jumps onto sample rows it was not nearest to, in one call.
        let before = pruned.assign(rows: nil, features: features, centroids: centroids.values)
        let stolen = (0..<n).filter { before.nearest[$0] != 0 }.prefix(3)
        var values = centroids.values
        let d = centroids.columns
        values.replaceSubrange(0..<d, with: features.row(stolen.first!))
        centroids = FeatureMatrix(rows: k, columns: d, values: values)
        var full = NearestCentroidSearch(samples: n, centroids: k, pruning: false, threads: 1)
        let after = pruned.assign(rows: nil, features: features, centroids: centroids.values)
        let expected = full.assign(rows: nil, features: features, centroids: centroids.values)
        let differing = (0..<n).filter { after.nearest[$0] != expected.nearest[$0] || after.similarity[$0] != expected.similarity[$0] }
        #expect(differing.isEmpty, "\(differing.count) samples differ from the full pass, first \(differing.prefix(5))")
        #expect(after.nearest[stolen.first!] == 0)
    }

    @Test func movementsAreEachCentroidsDistanceRoundedUpForEveryThreadCount() {
        // 130 centroids: three chunks of 64, split differently by 2 and 3 threads.
        var generator = SeededGenerator(seed: 41)
        let k = 130, d = 17
        let old = RandomProblem.features(rows: k, columns: d, generator: &generator).normalizedRows().values
        let new = RandomProblem.features(rows: k, columns: d, generator: &generator).normalizedRows().values
        let direct = (0..<k).map { c -> Float in
            let squared = (0..<d).reduce(0.0) { sum, j in
                let delta = Double(new[c * d + j]) - Double(old[c * d + j])
                return sum + delta * delta
            }
            return Float(squared.squareRoot() * (1 + 1e-6)).nextUp
        }
        for threads in [1, 2, 3] {
            #expect(NearestCentroidSearch.movements(from: old, to: new, d: d, threads: threads) == direct, "threads \(threads)")
        }
        // Rounded up: never below the distance computed in Float.
        for c in 0..<k {
            let distance = (0..<d).reduce(Float(0)) { $0 + (new[c * d + $1] - old[c * d + $1]) * (new[c * d + $1] - old[c * d + $1]) }.squareRoot()
            #expect(direct[c] >= distance)
        }
    }

    /// With many centroids, a few moving fast and the rest slowly: over every row the fastest are
    /// compared with every sample, so the others' slow movement alone grows the bounds and most samples
    /// stay settled — and a centroid that came close while fast and then overtakes at a slow pace is
    /// still seen, because its similarity went into the bound when it was compared.
    @Test func fastestCentroidsAreComparedAndFoldedIntoTheBound() {
        let k = SearchTuning.groupedFrom + 52, n = 3000, d = 64
        var generator = SeededGenerator(seed: 32)
        // Sample 0 lies apart from the clusters, so the bound on its other centroids is low.
        let isolated = RandomProblem.features(rows: 1, columns: d, generator: &generator).normalizedRows()
        var rows = clustered(seed: 31, rows: n, columns: d, clusters: 30).values
        rows.replaceSubrange(0..<d, with: isolated.values)
        let features = FeatureMatrix(rows: n, columns: d, values: rows)
        var values = features.selecting(rows: generator.distinctIndices(count: k, from: n)).values
        let x = features.row(0)
        /// A unit vector at similarity `cosine` to sample 0, on the side of `direction` (unit, ⟂ x).
        func near(_ cosine: Float, towards direction: [Float]) -> [Float] {
            let sine = (1 - cosine * cosine).squareRoot()
            return zip(x, direction).map { cosine * $0 + sine * $1 }
        }
        func orthogonalToX(_ generator: inout SeededGenerator) -> [Float] {
            var v = (0..<d).map { _ in Float(RandomProblem.gaussian(&generator)) }
            let along = zip(v, x).reduce(0) { $0 + $1.0 * $1.1 }
            v = zip(v, x).map { $0 - along * $1 }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
        func setCentroid(_ c: Int, _ row: [Float]) { values.replaceSubrange((c * d)..<((c + 1) * d), with: row) }
        /// Moves the centroids in `moving` by `size` each, in random directions, and renormalises.
        func jump(_ moving: some Sequence<Int>, size: Float, _ generator: inout SeededGenerator) {
            for c in moving {
                let step = (0..<d).map { _ in Float(RandomProblem.gaussian(&generator)) }
                let norm = step.reduce(0) { $0 + $1 * $1 }.squareRoot()
                setCentroid(c, FeatureMatrix(rows: 1, columns: d, values: (0..<d).map {
                    values[c * d + $0] + size * step[$0] / norm
                }).normalizedRows().values)
            }
        }
        setCentroid(0, near(0.99, towards: orthogonalToX(&generator)))
        let towards = orthogonalToX(&generator)

        var pruned = NearestCentroidSearch(samples: n, centroids: k, pruning: true, threads: 2)
        var full = NearestCentroidSearch(samples: n, centroids: k, pruning: false, threads: 1)
        var lastNearest: [Int32] = []
        func expectSame(_ step: String, rows: [Int]? = nil) {
            let a = pruned.assign(rows: rows, features: features, centroids: values)
            let b = full.assign(rows: rows, features: features, centroids: values)
            let differing = a.nearest.indices.filter { a.nearest[$0] != b.nearest[$0] || a.similarity[$0] != b.similarity[$0] }
            #expect(differing.isEmpty, "\(step): \(differing.count) samples differ, first \(differing.prefix(5))")
            lastNearest = a.nearest
        }
        // 28 centroids jump by 0.05 each call, the others by 0.00002: the bounds grow by the slow ones.
        expectSame("first call")
        for step in 0..<6 {
            let settledBefore = pruned.settledByCandidates
            jump(2..<30, size: 0.05, &generator)
            jump(30..<k, size: 0.00002, &generator)
            expectSame("drift \(step)")
            if step > 0 {
                #expect(pruned.settledByCandidates - settledBefore > 3 * n / 4,
                        "step \(step): settled \(pruned.settledByCandidates - settledBefore) of \(n)")
            }
        }
        #expect(lastNearest[0] == 0)
        // Centroid 1 comes to 0.004 below centroid 0's similarity to sample 0 in one jump (so it is among
        // the fastest and compared); next call it stands still while 38 others jump (so it leaves the
        // fastest); then it overtakes with a step (≈ 0.07) smaller than 32 others'.
        setCentroid(1, near(0.986, towards: towards))
        expectSame("centroid 1 comes close")
        jump(2..<40, size: 0.1, &generator)
        expectSame("centroid 1 leaves the fastest")
        #expect(lastNearest[0] == 0)
        setCentroid(1, near(0.995, towards: towards))
        jump(2..<40, size: 0.1, &generator)
        expectSame("centroid 1 overtakes slowly")
        #expect(lastNearest[0] == 1)
        // The same through a batch without sample 0: centroid 50 comes close while among the fastest,
        // a batch call follows, then it overtakes slowly in a call over every row.
        let other = orthogonalToX(&generator)
        setCentroid(50, near(0.99, towards: other))
        expectSame("centroid 50 comes close")
        #expect(lastNearest[0] == 1)
        expectSame("a batch without sample 0", rows: Array(1..<(n / 2)))
        setCentroid(50, near(0.999, towards: other))
        jump(2..<40, size: 0.15, &generator)
        expectSame("centroid 50 overtakes slowly")
        #expect(lastNearest[0] == 50)
        // And in the very call it leaves the fastest: centroid 60 comes close, then overtakes slowly.
        let third = orthogonalToX(&generator)
        setCentroid(60, near(0.996, towards: third))
        expectSame("centroid 60 comes close")
        #expect(lastNearest[0] == 50)
        setCentroid(60, near(0.9998, towards: third))
        jump(2..<40, size: 0.15, &generator)
        expectSame("centroid 60 overtakes as it leaves the fastest")
        #expect(lastNearest[0] == 60)
    }

    /// The first test's bounds are angles: in a tight cluster (similarities near 0.97) whose centroids
    /// all turn by the same angle, it settles many more samples than bounds grown by the distance
    /// moved could (counted here from exact similarities), with the full pass's answers.
    @Test func angleBoundsSettleWhatDistanceBoundsCannot() {
        let n = 2000, k = 40, d = 16
        var generator = SeededGenerator(seed: 31)
        let centre = (0..<d).map { _ in Float(RandomProblem.gaussian(&generator)) }
        func nearCentre() -> [Float] { centre.map { $0 / 4 + Float(RandomProblem.gaussian(&generator)) * 0.05 } }
        let features = FeatureMatrix(rows: n, columns: d, values: (0..<n).flatMap { _ in nearCentre() }).normalizedRows()
        let before = FeatureMatrix(rows: k, columns: d, values: (0..<k).flatMap { _ in nearCentre() }).normalizedRows()
        func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        // Every centroid turned by the same angle, towards a random direction orthogonal to it.
        let angle = 0.002
        var turned: [Float] = []
        for c in 0..<k {
            let row = before.row(c)
            var w = (0..<d).map { _ in RandomProblem.gaussian(&generator) }
            let along = zip(w, row).reduce(0) { $0 + $1.0 * Double($1.1) }
            w = zip(w, row).map { $0 - along * Double($1) }
            let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
            turned += zip(row, w).map { Float(cos(angle) * Double($0) + sin(angle) * $1 / norm) }
        }
        let after = FeatureMatrix(rows: k, columns: d, values: turned).normalizedRows()
        var pruned = NearestCentroidSearch(samples: n, centroids: k, pruning: true, threads: 2)
        var full = NearestCentroidSearch(samples: n, centroids: k, pruning: false, threads: 1)
        let first = pruned.assign(rows: nil, features: features, centroids: before.values)
        let second = pruned.assign(rows: nil, features: features, centroids: after.values)
        let expected = full.assign(rows: nil, features: features, centroids: after.values)
        #expect(second.nearest == expected.nearest && second.similarity == expected.similarity)
        // A distance bound settles a sample only when its new similarity beats every other old one by
        // the distance moved and the margin.
        let moved = 2 * sin(angle / 2)
        let byDistance = (0..<n).filter { i in
            let f = features.row(i), nearest = Int(first.nearest[i])
            let others = (0..<k).filter { $0 != nearest }.map { dot(f, before.row($0)) }.max()!
            return dot(f, after.row(nearest)) - Double(SearchExactness.margin) > others + moved
        }.count
        let similarities = (0..<n).map { dot(features.row($0), before.row(Int(first.nearest[$0]))) }
        #expect(similarities.min()! > 0.95, "\(similarities.min()!) \(similarities.max()!)")
        #expect(pruned.settledByBounds > byDistance + n / 4,
                "angle bounds settled \(pruned.settledByBounds), distance bounds could settle \(byDistance) of \(n)")
    }
}
