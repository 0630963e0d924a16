import Foundation

/// A pool written in shards, read as one table.
extension FeatureTable {
    /// A pool in shards: each shard's rows that `source.rows` covers (all by default), read in shard
    /// order and concatenated — a distributed process reads only the shards its block overlaps. Every
    /// shard must have the pool's width and the same datasets; ids must be unique across shards. The
    /// fingerprint is that of the concatenated data, as if it were one file. Memory: the rows read
    /// plus one shard's. O(rows read · d).
    static func loadShards(_ source: FeatureSource) throws(FeatureInputError) -> FeatureTable {
        func shard(_ path: String, rows: Range<Int>? = nil) -> FeatureSource {
            var one = source
            one.path = path
            one.shards = []
            one.pattern = nil
            one.rows = rows
            return one
        }
        var counts: [Int] = []
        for path in source.shards { counts.append(try rowCount(shard(path))) }
        let total = counts.reduce(0, +)
        let range = source.rows ?? 0..<total
        guard range.lowerBound >= 0, range.upperBound <= total, !range.isEmpty else {
            throw .rowsOutOfRange(file: source.displayPath, dataset: source.dataset, rows: range, available: total)
        }
        var first: FeatureTable?
        var values: [Float] = []
        var integerIDs: [Int64] = [], stringIDs: [String] = [], labels: [Int64] = []
        var start = 0
        for (path, count) in zip(source.shards, counts) {
            defer { start += count }
            // The rows of `range` in this shard (none when it lies wholly before or after).
            let low = max(range.lowerBound, start), high = min(range.upperBound, start + count)
            guard low < high else { continue }
            let local = low..<high
            var table = try load(shard(path, rows: (local.lowerBound - start)..<(local.upperBound - start)))
            if let first, table.columns != first.columns {
                throw .shardMismatch(file: path, problem: "\(table.columns) columns, where \(first.source.path) has \(first.columns)")
            }
            if first == nil {
                values.reserveCapacity(range.count * table.columns)
                first = table
            }
            switch table.ids {
            case .rowIndices: break
            case let .integers(part): integerIDs += part
            case let .strings(part): stringIDs += part
            }
            guard integerIDs.isEmpty || stringIDs.isEmpty else {
                throw .shardMismatch(file: path, problem: "its ids are of another kind (integers and strings) than the earlier shards'")
            }
            labels += table.labels ?? []
            values += table.takeValues()
        }
        let columns = first!.columns
        let ids: SampleIDs = !integerIDs.isEmpty ? .integers(integerIDs) : !stringIDs.isEmpty ? .strings(stringIDs) : .rowIndices
        if source.ids != nil { try checkUniqueIDs(ids, file: source.displayPath, dataset: source.ids!) }
        let pooledLabels = source.labels == nil ? nil : labels
        var whole = source
        whole.dataset = first!.source.dataset
        return FeatureTable(source: whole, rows: range.count, columns: columns, values: values, ids: ids,
                            labels: pooledLabels, storedType: first!.storedType,
                            fingerprint: fingerprint(rows: range.count, columns: columns, values: values, ids: ids,
                                                     labels: pooledLabels))
    }
}
