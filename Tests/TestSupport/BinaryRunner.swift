import Foundation

/// The `selectjob` binary built next to this test bundle (override with SELECTJOB_BINARY).
public let selectjobBinary: URL = {
    if let path = ProcessInfo.processInfo.environment["SELECTJOB_BINARY"] { return URL(fileURLWithPath: path) }
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        Bundle.main.bundleURL.deletingLastPathComponent(),
        Bundle.main.bundleURL,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug"),
    ]
    for folder in candidates where FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("selectjob").path) {
        return folder.appendingPathComponent("selectjob")
    }
    fatalError("selectjob binary not found next to the tests; build it first (swift build) or set SELECTJOB_BINARY")
}()

/// What a finished `selectjob` process left behind.
public struct Outcome: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// A not yet started process for `executable` in `folder`, stdin closed, without the caller's
/// SELECTJOB_DB (so only the test's own database settings count), plus `environment`.
public func prepareProcess(_ executable: URL, _ arguments: [String], in folder: URL,
                    environment: [String: String] = [:]) -> Process {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = folder
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "SELECTJOB_DB")
    env.merge(environment) { $1 }
    process.environment = env
    process.standardInput = FileHandle.nullDevice
    return process
}

/// Runs `selectjob` with `arguments` in `folder`, stdin closed, stdout and stderr captured (not a terminal).
///
/// With `timeout`, a process still running after that many seconds is killed (SIGKILL) and the
/// outcome's status is 9 (the signal): a test of "never hangs" fails instead of hanging the suite.
public func selectjob(_ arguments: [String], in folder: URL, environment: [String: String] = [:],
               executable: URL = selectjobBinary, timeout: Double? = nil) throws -> Outcome {
    let process = prepareProcess(executable, arguments, in: folder, environment: environment)
    // Files rather than pipes: the child can never block on a full pipe, and neither is a terminal.
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("selectjob-out-\(UUID().uuidString)")
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("selectjob-err-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    process.standardOutput = out
    process.standardError = err
    try process.run()
    if let timeout {
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { [process] in
            if process.isRunning { kill(pid, SIGKILL) }
        }
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    let stdoutData = try Data(contentsOf: outURL), stderrData = try Data(contentsOf: errURL)
    return Outcome(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                   stderr: String(decoding: stderrData, as: UTF8.self))
}
