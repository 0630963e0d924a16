import OpenBLAS

/// The threshold query of a ``NearestTargetSearch``: every query row reaching each target's own
/// similarity threshold (ProbCover's δ-balls), with the same group bounds as the nearest search.
extension NearestTargetSearch {
    /// For every target t, the query rows whose similarity to t may reach `thresholds[t]`: each row
    /// whose ``dot(_:_:count:)`` with t is at least the threshold is listed, with some that fall short
    /// by less than about ``SearchExactness/margin`` (sgemm similarity ≥ threshold − margin). Rows ascending per
    /// target; a target with threshold +∞ gets none.
    ///
    /// The reverse of ``nearest(_:rows:threads:)``, with the same bounds: a row is compared with a
    /// group only when the group's bound reaches its members' smallest threshold. Blocks are fixed by
    /// rows, so the lists are the same for every thread count. Cost: O(N·G·d) for the bounds plus the
    /// comparisons the bounds cannot rule out; memory: the lists plus O(threads·block·(d + K/G + G)).
    public func rowsReaching(_ thresholds: [Float], queries: FeatureMatrix, threads: Int) -> [[Int32]] {
        precondition(thresholds.count == grouped.rows && queries.columns == grouped.columns, "shapes differ")
        let n = queries.rows, d = queries.columns, g = groupCount
        // Each target's threshold less the margin (in grouped order), and each group's smallest.
        let memberLimit = originalIndex.map { thresholds[Int($0)] - SearchExactness.margin }
        let groupLimit = (0..<g).map { memberLimit[groupStart[$0]..<groupStart[$0 + 1]].min()! }
        let chunks = (n + SearchTuning.chunkRows - 1) / SearchTuning.chunkRows
        let found = ChunkResults<[(target: Int32, row: Int32)]>(count: chunks)
        let largestGroup = (0..<g).map { groupStart[$0 + 1] - groupStart[$0] }.max()!
        queries.values.withUnsafeBufferPointer { q in
            let input = ReadOnlyPointer(base: q.baseAddress!)
            ParallelChunks.run(chunks: chunks, threads: threads) { chunk in
                let start = chunk * SearchTuning.chunkRows, count = min(SearchTuning.chunkRows, n - start)
                let scratch = SearchScratch(blockRows: RowPartition.blockRows, groups: g, columns: d, largestGroup: largestGroup,
                                            keeping: 0)
                let bounds = scratch.centreSimilarity
                var pairs: [(target: Int32, row: Int32)] = []
                for blockStart in stride(from: start, to: start + count, by: RowPartition.blockRows) {
                    let m = min(RowPartition.blockRows, start + count - blockStart), block = input.base + blockStart * d
                    groupBounds(block: block, rows: m, into: bounds.base)
                    scratch.clearBuckets(groups: g)
                    for r in 0..<m {
                        let row = bounds.base + r * g
                        for group in 0..<g where row[group] >= groupLimit[group] { scratch.bucket(row: r, group: group) }
                    }
                    for group in 0..<g where scratch.bucketCount[group] > 0 {
                        let rows = Int(scratch.bucketCount[group]), members = scratch.buckets.base + group * scratch.blockRows
                        let first = groupStart[group], size = groupStart[group + 1] - first
                        let scores = scoreBucket(block: block, group: group, scratch: scratch)
                        for slot in 0..<rows {
                            for t in 0..<size where scores[slot * size + t] >= memberLimit[first + t] {
                                pairs.append((originalIndex[first + t], Int32(blockStart) + members[slot]))
                            }
                        }
                    }
                }
                found.set(chunk, pairs)
            }
        }
        var lists = [[Int32]](repeating: [], count: grouped.rows)
        for chunk in found.values {
            for pair in chunk { lists[Int(pair.target)].append(pair.row) }
        }
        return lists
    }
}
