import Foundation
import HDF5

/// How a model's predictions are stored: class probabilities (rows sum to 1) or logits.
public enum PredictionKind: String, Sendable, CaseIterable {
    case probabilities, logits
}

extension FeatureTable {
    /// The largest |Σ p − 1| accepted for a row of probabilities (float32 storage rounds each entry).
    public static let probabilitySumTolerance: Float = 1e-3

    /// The table as class probabilities for a pool of `poolRows` samples, one row per sample in the
    /// pool's order: probabilities are checked (each in [0, 1], each row summing to 1 within
    /// ``probabilitySumTolerance``), logits are turned into probabilities by a softmax computed in
    /// double precision. O(N·C).
    ///
    /// Errors name the file, the dataset, the row and the value: a row count other than the pool's,
    /// fewer than 2 classes, a value outside [0, 1], or a row that does not sum to 1.
    public func classProbabilities(_ kind: PredictionKind, poolRows: Int) throws(FeatureInputError) -> FeatureTable {
        guard rows == poolRows else {
            throw .lengthMismatch(file: source.path, dataset: source.dataset, count: rows, expected: poolRows)
        }
        guard columns >= 2 else {
            throw .invalidPredictions(file: source.path, dataset: source.dataset, row: 0,
                                      problem: "has \(columns) class column; predictions need at least 2 classes")
        }
        var probabilities = values
        for r in 0..<rows {
            let row = values[(r * columns)..<((r + 1) * columns)]
            switch kind {
            case .probabilities:
                if let bad = row.first(where: { $0 < 0 || $0 > 1 }) {
                    throw .invalidPredictions(file: source.path, dataset: source.dataset, row: r,
                                              problem: "holds \(bad), outside [0, 1] (are these logits? say \"kind\": \"logits\")")
                }
                let sum = row.reduce(0.0) { $0 + Double($1) }
                guard abs(sum - 1) <= Double(Self.probabilitySumTolerance) else {
                    throw .invalidPredictions(file: source.path, dataset: source.dataset, row: r,
                                              problem: "sums to \(sum), not 1 (within \(Self.probabilitySumTolerance))")
                }
            case .logits:
                let top = Double(row.max()!)
                let exps = row.map { Foundation.exp(Double($0) - top) }
                let total = exps.reduce(0, +)
                for (c, e) in exps.enumerated() { probabilities[r * columns + c] = Float(e / total) }
            }
        }
        return FeatureTable(source: source, rows: rows, columns: columns, values: probabilities, ids: ids,
                            labels: labels, storedType: storedType, fingerprint: fingerprint)
    }
}

extension FeatureTable {
    /// The model's predicted class for each of `count` samples, from a 1-D integer dataset of labels or
    /// a 2-D float dataset of class scores (the highest wins, the first on ties). O(count·C).
    public static func loadPredictedClasses(path: String, dataset name: String, count: Int) throws(FeatureInputError) -> [Int64] {
        try FeatureTable.mappingErrors(file: path) {
            let file = try HDF5File.open(readingAt: path)
            let dataset = try file.dataset(name)
            guard let rows = dataset.shape.first, dataset.shape.count <= 2 else {
                throw FeatureInputError.wrongRank(file: path, dataset: name, shape: dataset.shape, expected: 1)
            }
            guard rows == count else {
                throw FeatureInputError.lengthMismatch(file: path, dataset: name, count: rows, expected: count)
            }
            switch (dataset.shape.count, dataset.elementKind) {
            case (1, .integer):
                return try dataset.readInt64s()
            case (2, .float):
                let columns = dataset.shape[1]
                let scores = try dataset.readFloats()
                if let bad = scores.firstIndex(where: { !$0.isFinite }) {
                    throw FeatureInputError.nonFinite(file: path, dataset: name, row: bad / max(columns, 1),
                                                      column: bad % max(columns, 1), value: scores[bad])
                }
                return (0..<rows).map { row in
                    var best = 0
                    for c in 1..<max(columns, 1) where scores[row * columns + c] > scores[row * columns + best] { best = c }
                    return Int64(best)
                }
            default:
                throw FeatureInputError.wrongType(file: path, dataset: name, found: dataset.elementKind.description,
                                                  expected: "1-D integer labels or 2-D float class scores")
            }
        }
    }
}

extension FeatureTable {
    /// The rows reordered to follow a pool's samples by id: row i of the result is this table's row
    /// whose id is the pool's i-th id. Rows for ids not in the pool are dropped; a pool sample without
    /// a row is an error naming its id. A table without ids is returned as it is (aligned by row). O(N·C).
    public func aligned(toPool pool: SampleIDs, poolRows: Int) throws(FeatureInputError) -> FeatureTable {
        func keys(_ ids: SampleIDs, count: Int) -> [String] {
            switch ids {
            case .rowIndices: return (0..<count).map { "i\($0)" }
            case let .integers(values): return values.map { "i\($0)" }
            case let .strings(values): return values.map { "s\($0)" }
            }
        }
        if case .rowIndices = ids { return self }
        let position = Dictionary(keys(ids, count: rows).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        let poolKeys = keys(pool, count: poolRows)
        var values = [Float](repeating: 0, count: poolRows * columns)
        for (row, key) in poolKeys.enumerated() {
            guard let source = position[key] else {
                throw .missingRow(file: self.source.path, dataset: self.source.ids ?? "ids", id: String(key.dropFirst()))
            }
            for c in 0..<columns { values[row * columns + c] = self.values[source * columns + c] }
        }
        return FeatureTable(source: source, rows: poolRows, columns: columns, values: values, ids: pool, labels: nil,
                            storedType: storedType, fingerprint: fingerprint)
    }
}
