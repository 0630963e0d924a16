import Foundation

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
