import Foundation
import Testing
import TestSupport

/// A workspace where run 1 succeeded (k-means, 10 samples) and run 2 failed (ProbCover over its
/// `max_edges`): what the export, locking, database and run tests start from.
struct TwoRecordedRuns {
    let workspace: Workspace
    let db: [String]

    init() throws {
        workspace = try Workspace()
        try workspace.writeFeatures()
        db = ["--db", workspace.path("data/sel.sqlite")]
        let good = try workspace.writeJob("good", method: #"{"name": "kmeans"}"#, budget: #"{"count": 10}"#)
        let bad = try workspace.writeJob("bad", method: #"{"name": "probcover", "delta": 1.5, "max_edges": 100}"#,
                                         budget: #"{"count": 10}"#)
        #expect(try selectjob(["run", "--quiet", good], in: workspace.url).status == 0)
        #expect(try selectjob(["run", "--quiet", bad], in: workspace.url).status == 64)
    }

    /// A character device node in the workspace with the given numbers (1,3 is null, 1,7 is full), so
    /// a regression replaces the test's own node, never /dev's; nil when not permitted (not root).
    func device(_ name: String, minor: UInt32) -> String? {
        let path = workspace.path("data/\(name)")
        let number = dev_t((1 << 8) | minor)  // glibc's makedev(1, minor) for minor < 256
        return mknod(path, S_IFCHR | 0o666, number) == 0 ? path : nil
    }
}

/// A flag shared with a helper thread.
final class Atomic<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
