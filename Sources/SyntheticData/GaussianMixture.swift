import Foundation
import Selection

/// Labelled synthetic features: a mixture of classes, each a few Gaussian sub-clusters, like
/// self-supervised embeddings of a classification dataset (CIFAR-10 on DINO, say).
///
/// Deterministic for a given seed. O(rows·dimensions) time and memory.
public struct GaussianMixture: Sendable {
    public var rows: Int
    public var dimensions: Int
    public var classes: Int
    public var subclustersPerClass: Int
    /// Spread of sub-cluster centres around their class centre.
    public var subclusterSpread: Float = 0.5
    /// Spread of samples around their sub-cluster centre.
    public var sampleSpread: Float = 0.35

    public init(rows: Int, dimensions: Int, classes: Int, subclustersPerClass: Int) {
        self.rows = rows
        self.dimensions = dimensions
        self.classes = classes
        self.subclustersPerClass = subclustersPerClass
    }

    /// Features (row-major, `rows × dimensions`) and each row's class label, rows in random order.
    public func generate(seed: UInt64) -> (features: [Float], labels: [Int64]) {
        var generator = SeededGenerator(seed: seed)
        let d = dimensions
        let scale = 1 / Float(d).squareRoot()
        let classCentres = (0..<classes).map { _ in (0..<d).map { _ in generator.nextGaussian() * 2 * scale } }
        let subclusterCentres = classCentres.map { centre in
            (0..<subclustersPerClass).map { _ in centre.map { $0 + generator.nextGaussian() * subclusterSpread * scale } }
        }
        var features = [Float](repeating: 0, count: rows * d)
        var labels = [Int64](repeating: 0, count: rows)
        for row in 0..<rows {
            let label = Int.random(in: 0..<classes, using: &generator)
            let centre = subclusterCentres[label][Int.random(in: 0..<subclustersPerClass, using: &generator)]
            for j in 0..<d { features[row * d + j] = centre[j] + generator.nextGaussian() * sampleSpread * scale }
            labels[row] = Int64(label)
        }
        return (features, labels)
    }
}

extension SeededGenerator {
    /// A standard normal draw (Box–Muller). O(1).
    public mutating func nextGaussian() -> Float {
        let u1 = Double.random(in: Double.leastNonzeroMagnitude..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}
