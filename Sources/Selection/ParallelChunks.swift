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

/// A buffer's base address that chunks of a parallel loop write through, each to its own part.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}

/// A buffer's base address that chunks of a parallel loop only read.
struct ReadOnlyPointer<Element>: @unchecked Sendable {
    let base: UnsafePointer<Element>
}

import Foundation
