import OpenBLAS

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
///
/// Distributed (`partition` not whole: `unit` holds this process's rows), every sum over rows is a
/// ``FixedPointSum`` added over the group — in one process too, so the clustering is the same bits
/// for any number of processes; k-means++ draws its rows by an exact integer cumulative sum.
struct KMeansClustering {
    let unit: FeatureMatrix
    let spherical: Bool
    let threads: Int
    let partition: RowPartition
    let group: any ProcessGroup
    /// [x/√2, 1/√2]: unit rows whose dot with a centre's augmented form is x·c − ‖c‖²/2, so that the
    /// most similar centre is the nearest in Euclidean distance, and the pruned search applies.
    let augmented: FeatureMatrix

    init(unit: FeatureMatrix, spherical: Bool, threads: Int, partition: RowPartition? = nil,
         group: any ProcessGroup = SingleProcess()) {
        self.unit = unit
        self.spherical = spherical
        self.threads = threads
        self.partition = partition ?? RowPartition(totalRows: unit.rows)
        self.group = group
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
    ///
    /// Squared distances are kept as ``FixedPointSum`` integers, so the potential and the cumulative
    /// search that draws each candidate are exact, and the same for any split of the rows.
    func seed(k: Int, given: [Int] = [], generator: inout SeededGenerator) -> [Int] {
        let n = partition.totalRows, local = unit.rows
        let trials = 2 + Int(Foundation.log(Double(k)))
        let scale = FixedPointSum(bound: 4, count: n)
        // Squared distances of unit rows: ‖x − y‖² = 2 − 2 x·y, as fixed-point integers.
        func distances(to row: Int) -> [Int64] {
            let vector = partition.gatherRows([row], from: unit, group: group).values
            return BlockedSimilarity.similarities(unit, to: vector, threads: threads)
                .map { scale.encode(max(0, 2 - 2 * Double($0))) }
        }
        var chosen: [Int]
        var closest: [Int64]
        if given.isEmpty {
            chosen = [Int.random(in: 0..<n, using: &generator)]
            closest = distances(to: chosen[0])
        } else {
            chosen = given
            closest = [Int64](repeating: .max, count: local)
            for row in given {
                let fresh = distances(to: row)
                for i in 0..<local { closest[i] = min(closest[i], fresh[i]) }
            }
        }
        var potential = [closest.reduce(0, &+)]
        group.sum(&potential)
        while chosen.count < k + given.count {
            var candidates: [Int] = []
            for _ in 0..<trials {
                let target = Int64(Double.random(in: 0..<1, using: &generator) * Double(potential[0]))
                candidates.append(searchCumulative(closest, target))
            }
            let candidateRows = partition.gatherRows(candidates, from: unit, group: group)
            let similarity = BlockedSimilarity.rowwise(candidateRows, unit, threads: threads) { _, s in Array(s) }
            var totals = [Int64](repeating: 0, count: candidates.count)
            var trialDistances: [[Int64]] = []
            for t in candidates.indices {
                var distances = closest
                for i in 0..<local {
                    distances[i] = min(closest[i], scale.encode(max(0, 2 - 2 * Double(similarity[t][i]))))
                    totals[t] &+= distances[i]
                }
                trialDistances.append(distances)
            }
            group.sum(&totals)
            var bestTrial = 0
            for t in candidates.indices where totals[t] < totals[bestTrial] { bestTrial = t }
            var best = candidates[bestTrial]
            var bestDistances = trialDistances[bestTrial]
            var bestPotential = totals[bestTrial]
            if chosen.contains(best) {
                // Every remaining row coincides with a chosen one: take the first unchosen row.
                let taken = Set(chosen)
                best = (0..<n).first { !taken.contains($0) }!
                bestDistances = closest
                bestPotential = potential[0]
            }
            chosen.append(best)
            closest = bestDistances
            potential = [bestPotential]
        }
        return Array(chosen.dropFirst(given.count))
    }

    /// The first global row whose running sum of the group's `weights` exceeds `target` (numpy's
    /// `searchsorted` on the cumulative sum), row 0 when every weight is 0. Exact integer sums: one
    /// gather of each process's total. O(N/P).
    func searchCumulative(_ weights: [Int64], _ target: Int64) -> Int {
        let totals = group.gather(values: [weights.reduce(0, &+)]).map { $0[0] }
        var before: Int64 = 0
        for (rank, total) in totals.enumerated() {
            if before &+ total > target {
                // The row is in `rank`'s block; every process computes it from the gathered totals,
                // but only `rank` holds the weights, so it shares the answer.
                var row = -1
                if rank == group.rank {
                    var sum = before
                    for (i, w) in weights.enumerated() {
                        sum &+= w
                        if sum > target, w > 0 { row = partition.rows.lowerBound + i; break }
                    }
                }
                return group.argmax(value: 0, row: row).row
            }
            before &+= total
        }
        return 0
    }

    /// Lloyd iterations from the initial rows; the first `fixed` of them stay where they are.
    /// O(iterations · (search + N·d)).
    func lloyd(initialRows: [Int], fixed: Int = 0, maxIterations: Int, tolerance: Double, shouldStop: () -> Bool)
        throws(SelectionError) -> Clustering {
        let k = initialRows.count
        var centres = partition.gatherRows(initialRows, from: unit, group: group).values.map(Double.init)
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
            if !group.any(previous != nearest) { converged = true; break }
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
        let scale = FixedPointSum(bound: 4, count: partition.totalRows)
        var total: [Int64] = [0]
        for s in similarity { total[0] &+= scale.encode(spherical ? 1 - Double(s) : max(0, 1 - 2 * Double(s))) }
        return group.exactSum(total, scale: scale)[0]
    }

    /// The mean of each cluster's rows; an empty cluster (other than the first `fixed`) takes the
    /// farthest row of the others.
    private func means(of nearest: [Int32], similarity: [Float], previous: [Double], k: Int, fixed: Int) -> [Double] {
        let n = unit.rows, d = unit.columns, first = partition.rows.lowerBound
        var assigned = nearest.map(Int.init)
        var sizes = [Int64](repeating: 0, count: k)
        for c in nearest { sizes[Int(c)] += 1 }
        group.sum(&sizes)
        let empty = (fixed..<k).filter { sizes[$0] == 0 }
        if !empty.isEmpty {
            // Farthest rows of the group first (smallest augmented similarity), ties to the lower row:
            // each process offers its own farthest, and every process merges the offers.
            let order = (0..<n).sorted { (similarity[$0], $0) < (similarity[$1], $1) }.prefix(empty.count)
            let offers = group.gather(values: order.flatMap { [Int64(similarity[$0].bitPattern), Int64(first + $0)] })
            let farthest = offers.flatMap { offer in
                stride(from: 0, to: offer.count, by: 2).map { (Float(bitPattern: UInt32(offer[$0])), Int(offer[$0 + 1])) }
            }.sorted { $0 < $1 }.prefix(empty.count)
            for (c, (_, row)) in zip(empty, farthest) where partition.rows.contains(row) { assigned[row - first] = c }
        }
        // One collective: each centre's row count, then its sums of features (|x_j| ≤ 1 for unit rows).
        let scale = FixedPointSum(bound: 1.01, count: partition.totalRows)
        var totals = [Int64](repeating: 0, count: k + k * d)
        unit.values.withUnsafeBufferPointer { x in
            totals.withUnsafeMutableBufferPointer { total in
                for i in 0..<n {
                    let c = assigned[i]
                    total[c] += 1
                    scale.accumulate(1, times: x.baseAddress! + i * d, count: d, into: total.baseAddress! + k + c * d)
                }
            }
        }
        group.sum(&totals)
        var means = [Double](repeating: 0, count: k * d)
        for c in 0..<k where totals[c] > 0 {
            for j in 0..<d { means[c * d + j] = scale.decode(totals[k + c * d + j]) / Double(totals[c]) }
        }
        return means
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
        let n = unit.rows, d = unit.columns, all = Double(partition.totalRows)
        let scale = FixedPointSum(bound: 1.03, count: partition.totalRows)
        var sums = [Int64](repeating: 0, count: 2 * d)
        for i in 0..<n {
            for j in 0..<d {
                let v = Double(unit.values[i * d + j])
                sums[j] &+= scale.encode(v)
                sums[d + j] &+= scale.encode(v * v)
            }
        }
        let totals = group.exactSum(sums, scale: scale)
        var total = 0.0
        for j in 0..<d {
            let m = totals[j] / all
            total += totals[d + j] / all - m * m
        }
        return total / Double(d)
    }

    /// Each centre after the first `fixed`, largest cluster first, takes the nearest row not taken by
    /// an earlier centre nor in `excluding`.
    ///
    /// Returns picks whose score is the size of the cluster the row stands for. O(N·K·d).
    func nearestDistinctRows(_ clustering: Clustering, k total: Int, fixed: Int = 0, excluding: [Int] = []) -> [Pick] {
        var counts = [Int64](repeating: 0, count: total)
        for c in clustering.assignment { counts[Int(c)] += 1 }
        group.sum(&counts)
        let sizes = counts.map(Int.init)
        let k = total - fixed
        let order = (fixed..<total).sorted { (sizes[$0], -$0) > (sizes[$1], -$1) }
        let d = unit.columns
        var ordered = [Double](repeating: 0, count: k * d)
        for (position, c) in order.enumerated() {
            for j in 0..<d { ordered[position * d + j] = clustering.centres[c * d + j] }
        }
        let picks = ActiveFT.assignDistinct(features: augmented, centroids: augmentedCentres(ordered, k: k),
                                            excluding: excluding, threads: threads, partition: partition, group: group)
        return zip(picks, order).map { pick, c in Pick(row: pick.row, score: Double(sizes[c])) }
    }
}

import Foundation
