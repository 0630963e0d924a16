/// A dense row-major matrix of `Float` features: one sample per row.
public struct FeatureMatrix: Sendable, Equatable {
    /// Number of samples (rows).
    public let rows: Int
    /// Feature dimension (columns).
    public let columns: Int
    /// `rows × columns` values, row after row.
    public var values: [Float]

    /// Wraps `values` as a `rows × columns` matrix. Precondition: `values.count == rows * columns`.
    public init(rows: Int, columns: Int, values: [Float]) {
        precondition(values.count == rows * columns, "\(values.count) values do not fill \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// Row `i` as an array (a copy). O(columns).
    public func row(_ i: Int) -> [Float] { Array(values[(i * columns)..<((i + 1) * columns)]) }

    /// The same rows scaled to unit Euclidean norm (norms accumulated in double). O(rows·columns).
    ///
    /// Precondition: no row is all zeros (the feature reader rejects such rows).
    public func normalizedRows() -> FeatureMatrix {
        var out = values
        for i in 0..<rows {
            var sum = 0.0
            for j in 0..<columns { let v = Double(values[i * columns + j]); sum += v * v }
            let scale = Float(1 / sum.squareRoot())
            for j in 0..<columns { out[i * columns + j] = values[i * columns + j] * scale }
        }
        return FeatureMatrix(rows: rows, columns: columns, values: out)
    }

    /// The sub-matrix of the given rows, in the given order. O(rows·columns).
    public func selecting(rows indices: [Int]) -> FeatureMatrix {
        var out: [Float] = []
        out.reserveCapacity(indices.count * columns)
        for i in indices { out.append(contentsOf: values[(i * columns)..<((i + 1) * columns)]) }
        return FeatureMatrix(rows: indices.count, columns: columns, values: out)
    }
}
