import Foundation
import FeatureIO
import GRDB
import HDF5
import SyntheticData

/// The `selectjob` binary built next to this test bundle (override with SELECTJOB_BINARY).
let selectjobBinary: URL = {
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
struct Outcome {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// A not yet started process for `executable` in `folder`, stdin closed, without the caller's
/// SELECTJOB_DB (so only the test's own database settings count), plus `environment`.
func prepareProcess(_ executable: URL, _ arguments: [String], in folder: URL,
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
func selectjob(_ arguments: [String], in folder: URL, environment: [String: String] = [:],
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

/// A temporary project folder with a generated feature file and job files.
final class Workspace {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("selectjob-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("jobs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: url.appendingPathComponent("data"), withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    /// Writes a labelled mixture of `rows × dimensions` features with ids 1,000,000 + row.
    func writeFeatures(_ relative: String = "data/features.h5", rows: Int = 600, dimensions: Int = 16,
                       transform: (inout [Float]) -> Void = { _ in }) throws {
        var (features, labels) = GaussianMixture(rows: rows, dimensions: dimensions, classes: 5, subclustersPerClass: 2)
            .generate(seed: 11)
        transform(&features)
        let file = try HDF5File.create(at: path(relative))
        try file.write(floats: features, shape: [rows, dimensions], to: "features", chunkRows: 128, gzipLevel: 4)
        try file.write(int64s: labels, to: "labels")
        try file.write(int64s: (0..<rows).map { 1_000_000 + Int64($0) }, to: "ids")
    }

    /// Writes `jobs/NAME.json` with the given method and budget JSON; the database is data/sel.sqlite.
    @discardableResult
    func writeJob(_ name: String, method: String = #"{"name": "activeft", "iterations": 40}"#,
                  budget: String = #"{"percent": 5}"#, features: String = "../data/features.h5",
                  extra: String = #", "database": "../data/sel.sqlite""#) throws -> String {
        let json = """
            {"name": "\(name)", "features": {"path": "\(features)", "dataset": "features", "ids": "ids", "labels": "labels"},
             "method": \(method), "budget": \(budget), "seed": 7\(extra)}
            """
        try Data(json.utf8).write(to: url.appendingPathComponent("jobs/\(name).json"))
        return "jobs/\(name).json"
    }

    func database(_ relative: String = "data/sel.sqlite") throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: path(relative), configuration: configuration)
    }
}

/// The fingerprint selectjob records for a feature file written by ``Workspace/writeFeatures``.
enum FeatureTableFingerprint {
    static func of(_ path: String) throws -> String {
        try FeatureTable.load(FeatureSource(path: path, dataset: "features", ids: "ids", labels: "labels")).fingerprint
    }
}
