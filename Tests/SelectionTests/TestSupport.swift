import Foundation
@testable import Selection

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

/// An in-process stand-in for MPI: `size` threads, each with its own ``ThreadedGroup`` rank, whose
/// collectives meet on one board. Lets unit tests run a distributed selection with 1…P "processes".
final class CollectiveBoard: @unchecked Sendable {
    let size: Int
    private let condition = NSCondition()
    private var deposits: [[UInt8]]
    private var arrived = 0
    private var generation = 0
    private var results: [[UInt8]] = []

    init(size: Int) {
        self.size = size
        deposits = Array(repeating: [], count: size)
    }

    /// Every rank's bytes, once all `size` ranks have called it.
    func exchange(rank: Int, _ bytes: [UInt8]) -> [[UInt8]] {
        condition.lock()
        defer { condition.unlock() }
        let round = generation
        deposits[rank] = bytes
        arrived += 1
        if arrived == size {
            results = deposits
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            while generation == round { condition.wait() }
        }
        return results
    }

    /// Runs `body` once per rank, each on its own thread, and returns the results in rank order.
    func run<T: Sendable>(_ body: @escaping @Sendable (ThreadedGroup) -> T) -> [T] {
        let results = ChunkResults<T>(count: size)
        let done = DispatchGroup()
        for rank in 0..<size {
            done.enter()
            let thread = Thread { results.set(rank, body(ThreadedGroup(rank: rank, board: self))); done.leave() }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return results.values
    }
}

/// One rank of a ``CollectiveBoard``.
struct ThreadedGroup: ProcessGroup {
    let rank: Int
    let board: CollectiveBoard
    var size: Int { board.size }

    func sum(_ values: inout [Int64]) {
        let parts = gather(values: values)
        for i in values.indices { values[i] = parts.reduce(0) { $0 &+ $1[i] } }
    }

    func maximum(_ values: inout [Double]) {
        let parts = gather(values: values)
        for i in values.indices { values[i] = parts.map { $0[i] }.max()! }
    }

    func gather(_ bytes: [UInt8]) -> [[UInt8]] { board.exchange(rank: rank, bytes) }
}
