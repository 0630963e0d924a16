import Foundation

/// Pools in NumPy's files: a plain `.npy` with ids and labels beside it, ActiveFT's `.npy` dump, a `.npz`.
extension FeatureTable {
    static func loadNpy(_ source: FeatureSource) throws(FeatureInputError) -> FeatureTable {
        if source.format == .npz { return try loadNpz(source) }
        let dump = source.format == .activeftDump
        let (rows, columns, values, dumpLabels, storedType) = try NpyFeatures.load(source, labelColumn: dump)
        let ids = try source.ids.map { path throws(FeatureInputError) in try NpyFeatures.ids(path: path, expectedCount: rows) }
        let labels = try source.labels.map { path throws(FeatureInputError) in try NpyFeatures.integers(path: path, expectedCount: rows) }
        return try assemble(source, rows: rows, columns: columns, values: values, ids: ids ?? .rowIndices,
                            labels: labels ?? dumpLabels, storedType: storedType, dataset: "(npy array)")
    }

    /// A `.npz` archive: the features array `source.dataset` (or, left at its default and missing,
    /// the archive's only 2-D float array), ids and labels named arrays in the same archive.
    private static func loadNpz(_ source: FeatureSource) throws(FeatureInputError) -> FeatureTable {
        let archive = try NpzArchive(path: source.path)
        var source = source
        if archive.members[source.dataset] == nil, source.datasetIsDefault {
            let matrices = archive.members.keys.sorted().filter { name in
                guard let data = try? archive.array(name), let header = try? NpyFeatures.header(data, file: source.path) else { return false }
                return header.shape.count == 2 && ["<f4", "<f8"].contains(header.descr)
            }
            if matrices.count == 1 { source.dataset = matrices[0] }
        }
        let name = "\(source.path):\(source.dataset)"
        let (rows, columns, values, _, storedType) = try NpyFeatures.load(data: try archive.array(source.dataset), file: name,
                                                                       labelColumn: false)
        let ids = try source.ids.map { member throws(FeatureInputError) in
            try NpyFeatures.ids(data: try archive.array(member), file: "\(source.path):\(member)", expectedCount: rows)
        }
        let labels = try source.labels.map { member throws(FeatureInputError) in
            try NpyFeatures.integers(data: try archive.array(member), file: "\(source.path):\(member)", expectedCount: rows)
        }
        return try assemble(source, rows: rows, columns: columns, values: values, ids: ids ?? .rowIndices, labels: labels,
                            storedType: storedType, dataset: source.dataset)
    }

    /// A table from whole arrays read outside HDF5: `source.rows` applied, values checked, ids unique.
    private static func assemble(_ source: FeatureSource, rows: Int, columns: Int, values: [Float], ids: SampleIDs,
                                 labels: [Int64]?, storedType: String, dataset: String) throws(FeatureInputError) -> FeatureTable {
        var (rows, values, ids, labels) = (rows, values, ids, labels)
        if let range = source.rows {
            guard range.lowerBound >= 0, range.upperBound <= rows, !range.isEmpty else {
                throw .rowsOutOfRange(file: source.path, dataset: dataset, rows: range, available: rows)
            }
            values = Array(values[(range.lowerBound * columns)..<(range.upperBound * columns)])
            labels = labels.map { Array($0[range]) }
            switch ids {
            case .rowIndices: break
            case let .integers(all): ids = .integers(Array(all[range]))
            case let .strings(all): ids = .strings(Array(all[range]))
            }
            rows = range.count
        }
        try checkValues(values, columns: columns, firstRow: 0, file: source.path, dataset: dataset,
                        refusesZeroRows: source.refusesZeroRows)
        if let name = source.ids { try checkUniqueIDs(ids, file: source.path, dataset: name) }
        return FeatureTable(source: source, rows: rows, columns: columns, values: values, ids: ids,
                            labels: labels, storedType: storedType,
                            fingerprint: fingerprint(rows: rows, columns: columns, values: values, ids: ids, labels: labels))
    }

    /// Whether the last column looks like a label column: every value a whole number in 0...1,000 and
    /// the other columns not all whole numbers — a plain `.npy` that may be ActiveFT's dump
    /// (features, then the label). O(N·d).
    public var lastColumnLooksLikeLabels: Bool {
        guard columns >= 2, rows >= 2 else { return false }
        var otherWhole = true
        for r in 0..<rows {
            let last = values[r * columns + columns - 1]
            guard last == last.rounded(), last >= 0, last <= 1000 else { return false }
            if otherWhole, values[(r * columns)..<(r * columns + columns - 1)].contains(where: { $0 != $0.rounded() }) {
                otherWhole = false
            }
        }
        return !otherWhole
    }
}
