import Foundation
import Selection

/// Random test problems, always from a seeded generator (never the system one).
enum RandomProblem {
    /// `rows × columns` standard-normal features.
    static func features(rows: Int, columns: Int, generator: inout SeededGenerator) -> FeatureMatrix {
        FeatureMatrix(rows: rows, columns: columns,
                      values: (0..<(rows * columns)).map { _ in Float(gaussian(&generator)) })
    }

    static func gaussian(_ generator: inout SeededGenerator) -> Double {
        let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &generator)
        let u2 = Double.random(in: 0..<1, using: &generator)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

/// ActiveFT's loss straight from the paper's formula, in double precision with plain loops: the
/// slow recomputation the fast closed form is checked against. `frozen` plays the detached left
/// operand of the reference's `centroids.detach() @ centroids.T`. O(N·K·d + K²·d).
func directActiveFTLoss(unit: FeatureMatrix, theta: [Double], frozen: [Double], temperature: Double,
                        balance: Double) -> Double {
    let d = unit.columns, k = theta.count / d
    func normalized(_ m: [Double]) -> [[Double]] {
        (0..<k).map { c in
            let row = Array(m[(c * d)..<((c + 1) * d)])
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return row.map { $0 / norm }
        }
    }
    let centroids = normalized(theta), detached = normalized(frozen)
    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    var total = 0.0
    for i in 0..<unit.rows {
        let f = unit.row(i).map(Double.init)
        let similarities = centroids.map { dot(f, $0) }
        let best = similarities.indices.max { similarities[$0] < similarities[$1] }!
        let positive = exp(similarities[best] / temperature)
        let repulsion = detached.reduce(0) { $0 + exp(dot($1, centroids[best]) / temperature) }
        total += -log(positive / (positive + balance * repulsion))
    }
    return total / Double(unit.rows)
}
