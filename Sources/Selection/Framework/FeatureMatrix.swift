/// A dense row-major matrix of `Float` features: one sample per row.
public struct FeatureMatrix: Sendable, Equatable {
    /// Number of samples (rows).
    public let rows: Int
    /// Feature dimension (columns).
    public let columns: Int
    /// `rows × columns` values, row after row.
    public private(set) var values: [Float]
    /// Whether every row has been scaled to unit norm by ``normalizeRows(threads:)`` (or is a subset of
    /// such rows): ``normalizedRows()`` then returns the matrix as it is, without a copy.
    public private(set) var hasUnitRows = false

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
        if hasUnitRows { return self }
        var out = self
        out.normalizeRows(threads: 1)
        return out
    }

    /// Scales every row to unit Euclidean norm in place (norms accumulated in double), rows in
    /// parallel; no copy when the values are not shared. Each row is scaled on its own, so the result
    /// is identical for every thread count and equal to ``normalizedRows()``. O(rows·columns).
    ///
    /// Precondition: no row is all zeros (the feature reader rejects such rows).
    public mutating func normalizeRows(threads: Int) {
        guard !hasUnitRows else { return }
        defer { hasUnitRows = true }
        let rows = rows, columns = columns
        let chunkRows = 8192
        withSharedPointers(&values) { x in
            ParallelChunks.run(chunks: (rows + chunkRows - 1) / chunkRows, threads: threads) { chunk in
                for i in (chunk * chunkRows)..<min(rows, (chunk + 1) * chunkRows) {
                    let row = x.base + i * columns
                    var sum = 0.0
                    for j in 0..<columns { let v = Double(row[j]); sum += v * v }
                    let scale = Float(1 / sum.squareRoot())
                    for j in 0..<columns { row[j] *= scale }
                }
            }
        }
    }

    /// The sub-matrix of the given rows, in the given order. O(rows·columns).
    public func selecting(rows indices: [Int]) -> FeatureMatrix {
        var out: [Float] = []
        out.reserveCapacity(indices.count * columns)
        for i in indices { out.append(contentsOf: values[(i * columns)..<((i + 1) * columns)]) }
        var subset = FeatureMatrix(rows: indices.count, columns: columns, values: out)
        subset.hasUnitRows = hasUnitRows
        return subset
    }

    /// Reorders the rows in place: row i becomes the row that was at `order[i]`, the same values as
    /// `selecting(rows: order)` without a second copy of the matrix (no copy at all when the values
    /// are not shared). Each cycle of the permutation is followed with one row of scratch.
    /// O(rows·columns) time, O(rows + columns) memory.
    ///
    /// Precondition: `order` is a permutation of `0..<rows`.
    public mutating func permuteRows(_ order: [Int]) {
        precondition(order.count == rows, "an order of \(order.count) rows for \(rows)")
        let columns = columns
        var placed = [Bool](repeating: false, count: rows)
        let saved = OwnedBuffer<Float>(capacity: columns)
        values.withUnsafeMutableBufferPointer { buffer in
            guard let x = buffer.baseAddress else { return }
            for start in 0..<rows where !placed[start] {
                // Row `start` is overwritten first: keep it, then pull each row of the cycle forward.
                saved.base.update(from: x + start * columns, count: columns)
                var target = start
                while true {
                    placed[target] = true
                    let source = order[target]
                    precondition(source >= 0 && source < rows, "order holds \(source), not a row of \(rows)")
                    if source == start {
                        (x + target * columns).update(from: saved.base, count: columns)
                        break
                    }
                    precondition(!placed[source], "order holds row \(source) twice")
                    (x + target * columns).update(from: x + source * columns, count: columns)
                    target = source
                }
            }
        }
    }

    /// Undoes ``permuteRows(_:)`` with the same `order`: the row now at i goes back to `order[i]`.
    /// O(rows·columns) time, O(rows + columns) memory.
    public mutating func restoreRows(_ order: [Int]) {
        var back = [Int](repeating: 0, count: order.count)
        for (position, row) in order.enumerated() { back[row] = position }
        permuteRows(back)
    }

    /// Equal shapes and values (whether the rows are known to be unit rows does not count).
    public static func == (a: FeatureMatrix, b: FeatureMatrix) -> Bool {
        a.rows == b.rows && a.columns == b.columns && a.values == b.values
    }
}
