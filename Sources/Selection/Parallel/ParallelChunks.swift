import Dispatch

/// Runs `chunks` independent pieces of work on up to `threads` threads.
///
/// Which thread runs a chunk never affects a result: each chunk writes only its own output, and
/// callers combine the outputs in chunk order, so results are identical for every thread count.
public enum ParallelChunks {
    /// The number of active processors: the default thread count.
    public static var processorCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

    static func run(chunks: Int, threads: Int, _ body: @Sendable (Int) -> Void) {
        let workers = max(1, min(threads, chunks))
        if workers == 1 {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for chunk in stride(from: worker, to: chunks, by: workers) { body(chunk) }
        }
    }
}

extension ParallelChunks {
    /// ``run(chunks:threads:_:)`` for chunks of known, unequal `costs`: each chunk, costliest first,
    /// goes to the thread with the least work so far (longest processing time first, R. L. Graham,
    /// "Bounds on Multiprocessing Timing Anomalies", SIAM J. Appl. Math. 1969). Ties go to the lower
    /// chunk and thread, so the schedule is a function of the costs and the thread count alone.
    /// O(chunks·(log chunks + threads)) to schedule.
    static func run(costs: [Double], threads: Int, _ body: @Sendable (Int) -> Void) {
        let schedule = schedule(costs: costs, threads: threads)
        run(chunks: schedule.count, threads: schedule.count) { worker in
            for chunk in schedule[worker] { body(chunk) }
        }
    }

    /// The chunks each thread of ``run(costs:threads:_:)`` runs, in order (one list per thread, at
    /// most `threads` and at most one per chunk).
    static func schedule(costs: [Double], threads: Int) -> [[Int]] {
        let workers = max(1, min(threads, costs.count))
        var load = [Double](repeating: 0, count: workers)
        var assigned = [[Int]](repeating: [], count: workers)
        for chunk in costs.indices.sorted(by: { costs[$0] > costs[$1] || (costs[$0] == costs[$1] && $0 < $1) }) {
            let worker = load.indices.min { load[$0] < load[$1] }!
            load[worker] += costs[chunk]
            assigned[worker].append(chunk)
        }
        return assigned
    }

    /// ``run(chunks:threads:_:)`` where each thread first makes one scratch value with `makeScratch`
    /// and hands it to every chunk it runs (scratch must not carry results from chunk to chunk).
    static func run<Scratch>(chunks: Int, threads: Int, makeScratch: @Sendable () -> Scratch,
                             _ body: @Sendable (Int, Scratch) -> Void) {
        let workers = max(1, min(threads, chunks))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let scratch = makeScratch()
            for chunk in stride(from: worker, to: chunks, by: workers) { body(chunk, scratch) }
        }
    }

    /// Splits 0..<`count` into `parts` contiguous ranges run in parallel, each adding (wrapping) into
    /// `width` integer totals of its own, and returns the element-wise sum of the parts' totals.
    /// Integer addition is exact, so the result is the same for every split and thread count: the
    /// fixed-point sums (``FixedPointSum``) over samples or row blocks use it. Memory O(parts·width).
    static func integerTotals(count: Int, parts: Int, width: Int, threads: Int,
                              _ body: @Sendable (Range<Int>, UnsafeMutablePointer<Int64>) -> Void) -> [Int64] {
        let parts = max(1, parts)
        let partTotals = ChunkResults<[Int64]>(count: parts)
        run(chunks: parts, threads: threads) { part in
            var totals = [Int64](repeating: 0, count: width)
            totals.withUnsafeMutableBufferPointer { body((count * part / parts)..<(count * (part + 1) / parts), $0.baseAddress!) }
            partTotals.set(part, totals)
        }
        var sum = partTotals.values[0]
        for part in partTotals.values.dropFirst() {
            for i in 0..<width { sum[i] &+= part[i] }
        }
        return sum
    }
}

/// A buffer's base address that chunks of a parallel loop write through, each to its own part.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}

/// A buffer's base address that chunks of a parallel loop only read.
struct ReadOnlyPointer<Element>: @unchecked Sendable {
    let base: UnsafePointer<Element>
}

import Foundation

extension SharedPointer {
    /// The buffer's start. An empty buffer may have no address; it gets a dummy aligned one, never
    /// dereferenced because there is nothing to read or write.
    init(_ buffer: UnsafeMutableBufferPointer<Element>) {
        base = buffer.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }
}

// Scoped access for parallel loops: the pointers live only inside `body`, never beyond the
// `withUnsafeMutableBufferPointer` call that produced them.

/// Runs `body` with a pointer to `a`'s storage that chunks of a parallel loop write through.
func withSharedPointers<A, R>(_ a: inout [A], _ body: (SharedPointer<A>) throws -> R) rethrows -> R {
    try a.withUnsafeMutableBufferPointer { try body(SharedPointer($0)) }
}

/// Runs `body` with pointers to the storage of `a` and `b`.
func withSharedPointers<A, B, R>(_ a: inout [A], _ b: inout [B],
                                 _ body: (SharedPointer<A>, SharedPointer<B>) throws -> R) rethrows -> R {
    try a.withUnsafeMutableBufferPointer { pa in try b.withUnsafeMutableBufferPointer { pb in
        try body(SharedPointer(pa), SharedPointer(pb)) } }
}

/// Runs `body` with pointers to the storage of `a`, `b` and `c`.
func withSharedPointers<A, B, C, R>(_ a: inout [A], _ b: inout [B], _ c: inout [C],
                                    _ body: (SharedPointer<A>, SharedPointer<B>, SharedPointer<C>) throws -> R) rethrows -> R {
    try a.withUnsafeMutableBufferPointer { pa in try b.withUnsafeMutableBufferPointer { pb in
        try c.withUnsafeMutableBufferPointer { pc in try body(SharedPointer(pa), SharedPointer(pb), SharedPointer(pc)) } } }
}

/// Runs `body` with pointers to the storage of `a`, `b`, `c` and `d`.
func withSharedPointers<A, B, C, D, R>(
    _ a: inout [A], _ b: inout [B], _ c: inout [C], _ d: inout [D],
    _ body: (SharedPointer<A>, SharedPointer<B>, SharedPointer<C>, SharedPointer<D>) throws -> R
) rethrows -> R {
    try a.withUnsafeMutableBufferPointer { pa in try b.withUnsafeMutableBufferPointer { pb in
        try c.withUnsafeMutableBufferPointer { pc in try d.withUnsafeMutableBufferPointer { pd in
            try body(SharedPointer(pa), SharedPointer(pb), SharedPointer(pc), SharedPointer(pd)) } } } }
}

extension ReadOnlyPointer {
    /// The buffer's start; an empty buffer gets a dummy aligned address, never dereferenced.
    init(_ buffer: UnsafeBufferPointer<Element>) {
        base = buffer.baseAddress ?? UnsafePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }
}

/// Runs `body` with read-only pointers to the storage of `a` and `b`, for chunks of a parallel loop.
func withReadOnlyPointers<A, B, R>(_ a: [A], _ b: [B],
                                   _ body: (ReadOnlyPointer<A>, ReadOnlyPointer<B>) throws -> R) rethrows -> R {
    try a.withUnsafeBufferPointer { pa in try b.withUnsafeBufferPointer { pb in
        try body(ReadOnlyPointer(pa), ReadOnlyPointer(pb)) } }
}

/// Runs `body` with read-only pointers to the storage of `a`, `b` and `c`.
func withReadOnlyPointers<A, B, C, R>(_ a: [A], _ b: [B], _ c: [C],
                                      _ body: (ReadOnlyPointer<A>, ReadOnlyPointer<B>, ReadOnlyPointer<C>) throws -> R)
    rethrows -> R {
    try a.withUnsafeBufferPointer { pa in try b.withUnsafeBufferPointer { pb in try c.withUnsafeBufferPointer { pc in
        try body(ReadOnlyPointer(pa), ReadOnlyPointer(pb), ReadOnlyPointer(pc)) } } }
}

/// Runs `body` with read-only pointers to the storage of `a`, `b`, `c` and `d`.
func withReadOnlyPointers<A, B, C, D, R>(
    _ a: [A], _ b: [B], _ c: [C], _ d: [D],
    _ body: (ReadOnlyPointer<A>, ReadOnlyPointer<B>, ReadOnlyPointer<C>, ReadOnlyPointer<D>) throws -> R
) rethrows -> R {
    try a.withUnsafeBufferPointer { pa in try b.withUnsafeBufferPointer { pb in
        try c.withUnsafeBufferPointer { pc in try d.withUnsafeBufferPointer { pd in
            try body(ReadOnlyPointer(pa), ReadOnlyPointer(pb), ReadOnlyPointer(pc), ReadOnlyPointer(pd)) } } } }
}
