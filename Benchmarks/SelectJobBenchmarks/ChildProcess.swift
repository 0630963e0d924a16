import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A finished child process: its exit status, what it printed, its wall time and its peak memory.
struct ChildOutcome {
    let status: Int32
    let stdout: String
    let seconds: Double
    /// Peak resident set size of the child alone, in bytes (from wait4's rusage).
    let peakBytes: Int
}

/// Runs `executable` with `arguments`, stdout to a temporary file, and waits for it with wait4 so
/// that its own peak memory is known. O(the child's run).
func runChild(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ChildOutcome {
    let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).out").path
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { env.forEach { free($0) } }
    var pid: pid_t = 0
    let start = Date()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, env)
    guard spawned == 0 else {
        throw NSError(domain: "bench", code: Int(spawned), userInfo: [NSLocalizedDescriptionKey: "cannot run \(executable)"])
    }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let seconds = Date().timeIntervalSince(start)
    let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    return ChildOutcome(status: exitStatus, stdout: output, seconds: seconds, peakBytes: Int(usage.ru_maxrss) * 1024)
}
