import BLAS

/// Lloyd's k-means on unit-norm rows, seeded by greedy k-means++, with the exact pruned
/// nearest-centroid search doing every assignment.
///
/// Follows scikit-learn's `KMeans(algorithm="lloyd")`: greedy k-means++ with 2 + ⌊ln K⌋ candidates
/// per centre (Arthur & Vassilvitskii, "k-means++: The Advantages of Careful Seeding", SODA 2007);
/// each iteration assigns every row to its nearest centre, moves each centre to its rows' mean, and
/// stops when no assignment changed or the total squared centre shift is at most
/// `tolerance` × the mean per-feature variance; an empty cluster takes the row farthest from its
/// centre. `spherical` normalises each centre (cosine assignment, Dhillon & Modha, Machine Learning
/// 2001). Cost per iteration: the pruned search (at most one N×K×d sgemm) plus O(N·d).
struct KMeansClustering {
    let unit: FeatureMatrix
    let spherical: Bool
    let threads: Int
    /// [x/√2, 1/√2]: unit rows whose dot with a centre's augmented form is x·c − ‖c‖²/2, so that the
    /// most similar centre is the nearest in Euclidean distance, and the pruned search applies.
    let augmented: FeatureMatrix

    init(unit: FeatureMatrix, spherical: Bool, threads: Int) {
        self.unit = unit
        self.spherical = spherical
        self.threads = threads
        let d = unit.columns, scale = Float(0.5.squareRoot())
        var values = [Float](repeating: scale, count: unit.rows * (d + 1))
        for i in 0..<unit.rows {
            for j in 0..<d { values[i * (d + 1) + j] = unit.values[i * d + j] * scale }
        }
        augmented = FeatureMatrix(rows: unit.rows, columns: d + 1, values: values)
    }

    /// One clustering: the centres (K×d, double), each row's cluster, the inertia and its curve.
    struct Clustering {
        var centres: [Double]
        var assignment: [Int32]
        /// Σ ‖x − c(x)‖² (for spherical: Σ (1 − x·ĉ(x)), the cosine distance).
        var inertia: Double
        /// Inertia after each iteration.
        var curve: [Double]
        var iterations: Int
    }

    /// Centres in the augmented form the search compares against.
    func augmentedCentres(_ centres: [Double], k: Int) -> [Float] {
        let d = unit.columns, root2 = 2.0.squareRoot()
        var out = [Float](repeating: 0, count: k * (d + 1))
        for c in 0..<k {
            var norm2 = 0.0
            for j in 0..<d { norm2 += centres[c * d + j] * centres[c * d + j] }
            let scale = spherical ? 1 / max(norm2.squareRoot(), 1e-30) : 1
            for j in 0..<d { out[c * (d + 1) + j] = Float(root2 * centres[c * d + j] * scale) }
            out[c * (d + 1) + d] = spherical ? 0 : Float(-root2 * norm2 / 2)
        }
        return out
    }

    /// Greedy k-means++ seeding: K distinct rows, continuing from the centres at rows `given` when
    /// there are any (they are not returned), else from a seeded random row. O((K + given)·(2 + ln K)·N·d).
    func seed(k: Int, given: [Int] = [], generator: inout SeededGenerator) -> [Int] {
        let n = unit.rows
        let trials = 2 + Int(Foundation.log(Double(k)))
        // Squared distances of unit rows: ‖x − y‖² = 2 − 2 x·y.
        func distances(to row: Int) -> [Double] {
            BlockedSimilarity.similarities(unit, to: unit.row(row), threads: threads).map { max(0, 2 - 2 * Double($0)) }
        }
        var chosen: [Int]
        var closest: [Double]
        if given.isEmpty {
            chosen = [Int.random(in: 0..<n, using: &generator)]
            closest = distances(to: chosen[0])
        } else {
            chosen = given
            closest = [Double](repeating: .infinity, count: n)
            for row in given {
                let fresh = distances(to: row)
                for i in 0..<n { closest[i] = min(closest[i], fresh[i]) }
            }
        }
        var potential = closest.reduce(0, +)
        while chosen.count < k + given.count {
            var candidates: [Int] = []
            for _ in 0..<trials {
                let target = Double.random(in: 0..<1, using: &generator) * potential
                candidates.append(Self.searchCumulative(closest, target))
            }
            let candidateRows = unit.selecting(rows: candidates)
            let similarity = BlockedSimilarity.rowwise(candidateRows, unit, threads: threads) { _, s in Array(s) }
            var best = -1
            var bestPotential = Double.infinity
            var bestDistances: [Double] = []
            for (t, row) in candidates.enumerated() {
                var total = 0.0
                var distances = closest
                for i in 0..<n {
                    distances[i] = min(closest[i], max(0, 2 - 2 * Double(similarity[t][i])))
                    total += distances[i]
                }
                if total < bestPotential { bestPotential = total; best = row; bestDistances = distances }
            }
            if chosen.contains(best) {
                // Every remaining row coincides with a chosen one: take the first unchosen row.
                let taken = Set(chosen)
                best = (0..<n).first { !taken.contains($0) }!
                bestDistances = closest
                bestPotential = potential
            }
            chosen.append(best)
            closest = bestDistances
            potential = bestPotential
        }
        return Array(chosen.dropFirst(given.count))
    }

    /// The first index whose running sum of `weights` exceeds `target` (the last positive one when
    /// rounding runs past the end), as numpy's `searchsorted` on the cumulative sum. O(N).
    static func searchCumulative(_ weights: [Double], _ target: Double) -> Int {
        var sum = 0.0
        var lastPositive = 0
        for (i, w) in weights.enumerated() {
            if w > 0 { lastPositive = i }
            sum += w
            if sum > target, w > 0 { return i }
        }
        return lastPositive
    }

    /// Lloyd iterations from the initial rows; the first `fixed` of them stay where they are.
    /// O(iterations · (search + N·d)).
    func lloyd(initialRows: [Int], fixed: Int = 0, maxIterations: Int, tolerance: Double, shouldStop: () -> Bool)
        throws(SelectionError) -> Clustering {
        let k = initialRows.count
        var centres = unit.selecting(rows: initialRows).values.map(Double.init)
        return try lloyd(centres: &centres, k: k, fixed: fixed, maxIterations: maxIterations, tolerance: tolerance,
                         shouldStop: shouldStop)
    }

    /// Lloyd iterations from the given centres (K×d, double); the first `fixed` centres never move.
    func lloyd(centres: inout [Double], k: Int, fixed: Int = 0, maxIterations: Int, tolerance: Double,
               shouldStop: () -> Bool) throws(SelectionError) -> Clustering {
        let n = unit.rows, d = unit.columns
        let scaledTolerance = tolerance * meanVariance()
        var search = NearestCentroidSearch(samples: n, centroids: k, pruning: true, threads: threads)
        var previous: [Int32]?
        var curve: [Double] = []
        var iterations = 0
        var assignment: [Int32] = []
        var converged = false
        while iterations < maxIterations {
            guard !shouldStop() else { throw .cancelled }
            let (nearest, similarity) = search.assign(rows: nil, features: augmented,
                                                      centroids: augmentedCentres(centres, k: k))
            assignment = nearest
            iterations += 1
            let old = centres
            centres = means(of: nearest, similarity: similarity, previous: old, k: k, fixed: fixed)
            for i in 0..<(fixed * d) { centres[i] = old[i] }
            curve.append(inertia(similarity))
            if previous == nearest { converged = true; break }
            previous = nearest
            var shift = 0.0
            for i in 0..<(k * d) { let delta = centres[i] - old[i]; shift += delta * delta }
            if shift <= scaledTolerance { break }
        }
        // The final centres' own assignment, as scikit-learn recomputes it when not strictly converged.
        var finalInertia = curve.last ?? 0
        if !converged {
            let (nearest, similarity) = search.assign(rows: nil, features: augmented,
                                                      centroids: augmentedCentres(centres, k: k))
            assignment = nearest
            finalInertia = inertia(similarity)
        }
        if spherical { centres = normalizedCentres(centres, k: k) }
        return Clustering(centres: centres, assignment: assignment, inertia: finalInertia, curve: curve,
                          iterations: iterations)
    }

    /// Σ distance from the augmented similarities s = x·c − ‖c‖²/2 (or x·ĉ when spherical).
    private func inertia(_ similarity: [Float]) -> Double {
        var total = 0.0
        for s in similarity { total += spherical ? 1 - Double(s) : max(0, 1 - 2 * Double(s)) }
        return total
    }

    /// The mean of each cluster's rows; an empty cluster (other than the first `fixed`) takes the
    /// farthest row of the others.
    private func means(of nearest: [Int32], similarity: [Float], previous: [Double], k: Int, fixed: Int) -> [Double] {
        let n = unit.rows, d = unit.columns
        var sums = [Double](repeating: 0, count: k * d)
        var counts = [Int](repeating: 0, count: k)
        var assigned = nearest.map(Int.init)
        var occupied = [Bool](repeating: false, count: k)
        for c in nearest { occupied[Int(c)] = true }
        let empty = (fixed..<k).filter { !occupied[$0] }
        if !empty.isEmpty {
            // Farthest rows first (smallest augmented similarity), ties to the lower row.
            let order = (0..<n).sorted { (similarity[$0], $0) < (similarity[$1], $1) }
            for (c, row) in zip(empty, order) { assigned[row] = c }
        }
        for i in 0..<n {
            let c = assigned[i]
            counts[c] += 1
            for j in 0..<d { sums[c * d + j] += Double(unit.values[i * d + j]) }
        }
        for c in 0..<k where counts[c] > 0 {
            for j in 0..<d { sums[c * d + j] /= Double(counts[c]) }
        }
        return sums
    }

    private func normalizedCentres(_ centres: [Double], k: Int) -> [Double] {
        let d = unit.columns
        var out = centres
        for c in 0..<k {
            var norm2 = 0.0
            for j in 0..<d { norm2 += centres[c * d + j] * centres[c * d + j] }
            let scale = 1 / max(norm2.squareRoot(), 1e-30)
            for j in 0..<d { out[c * d + j] *= scale }
        }
        return out
    }

    /// The mean over features of each feature's variance (scikit-learn's tolerance scale). O(N·d).
    private func meanVariance() -> Double {
        let n = unit.rows, d = unit.columns
        var mean = [Double](repeating: 0, count: d), square = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d {
                let v = Double(unit.values[i * d + j])
                mean[j] += v
                square[j] += v * v
            }
        }
        var total = 0.0
        for j in 0..<d {
            let m = mean[j] / Double(n)
            total += square[j] / Double(n) - m * m
        }
        return total / Double(d)
    }

    /// Each centre after the first `fixed`, largest cluster first, takes the nearest row not taken by
    /// an earlier centre nor in `excluding`.
    ///
    /// Returns picks whose score is the size of the cluster the row stands for. O(N·K·d).
    func nearestDistinctRows(_ clustering: Clustering, k total: Int, fixed: Int = 0, excluding: [Int] = []) -> [Pick] {
        var sizes = [Int](repeating: 0, count: total)
        for c in clustering.assignment { sizes[Int(c)] += 1 }
        let k = total - fixed
        let order = (fixed..<total).sorted { (sizes[$0], -$0) > (sizes[$1], -$1) }
        let d = unit.columns
        var ordered = [Double](repeating: 0, count: k * d)
        for (position, c) in order.enumerated() {
            for j in 0..<d { ordered[position * d + j] = clustering.centres[c * d + j] }
        }
        let picks = ActiveFT.assignDistinct(features: augmented, centroids: augmentedCentres(ordered, k: k),
                                            excluding: excluding)
        return zip(picks, order).map { pick, c in Pick(row: pick.row, score: Double(sizes[c])) }
    }
}

import Foundation
