import Foundation
import GRDB
import HDF5
import Testing
import TestSupport

/// `export` outputs: where a selection is written and what it carries.
@Suite struct ExportTests {
    let runs: TwoRecordedRuns
    var workspace: Workspace { runs.workspace }
    var db: [String] { runs.db }

    init() throws { runs = try TwoRecordedRuns() }

    func device(_ name: String, minor: UInt32) -> String? { runs.device(name, minor: minor) }

    func export(_ arguments: [String]) throws -> Outcome {
        try selectjob(["export", "1", "--format", "csv"] + arguments + db, in: workspace.url)
    }

    /// A symlink is followed — its target gets the export, the link stays a link.
    @Test func exportFollowsASymlinkToItsTarget() throws {
        let target = workspace.path("data/real.csv"), link = workspace.path("data/link.csv")
        try Data("old".utf8).write(to: URL(fileURLWithPath: target))
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "real.csv")
        #expect(try export(["-o", link]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link) == "real.csv")
        #expect(try String(contentsOfFile: target, encoding: .utf8).hasPrefix("rank,row_index,sample_id,score,label\n"))
    }

    /// A replaced regular file keeps its permissions.
    @Test func exportKeepsTheReplacedFilesMode() throws {
        let path = workspace.path("data/private.csv")
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        #expect(chmod(path, 0o600) == 0)
        #expect(try export(["-o", path]).status == 0)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("rank,"))
    }

    /// A device is written through, never replaced by a regular file.
    @Test func exportToADeviceWritesThroughIt() throws {
        guard let null = device("null", minor: 3) else {
            print("skipped: cannot create a device node here (needs root)")
            return
        }
        #expect(try export(["-o", null]).status == 0)
        var info = stat()
        #expect(stat(null, &info) == 0 && (info.st_mode & S_IFMT) == S_IFCHR)
    }

    /// A FIFO's reader gets the export.
    @Test func exportToAFIFOReachesItsReader() throws {
        let fifo = workspace.path("data/pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = workspace.path("data/received.csv")
        let reader = Process()
        reader.executableURL = URL(fileURLWithPath: "/bin/sh")
        reader.arguments = ["-c", "cat \"$0\" > \"$1\"", fifo, received]
        try reader.run()
        let outcome = try export(["-o", fifo])
        reader.waitUntilExit()
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try String(contentsOfFile: received, encoding: .utf8).split(separator: "\n").count == 11)
        var info = stat()
        #expect(stat(fifo, &info) == 0 && (info.st_mode & S_IFMT) == S_IFIFO)
    }

    /// Item 1: `-o -` is standard output.
    @Test func exportDashIsStandardOutput() throws {
        let outcome = try export(["-o", "-"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.hasPrefix("rank,row_index,sample_id,score,label\n"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("-")))
    }

    /// A failed write — to a file or to standard output — is exit 74 naming where.
    @Test func failedWritesExit74() throws {
        if let full = device("full", minor: 7) {
            let toFile = try export(["-o", full])
            #expect(toFile.status == 74)
            #expect(toFile.stderr.contains("\(full): cannot write"))
        } else {
            print("skipped the export-to-device half: cannot create a device node here (needs root)")
        }
        for arguments in [["export", "1", "--format", "csv"], ["runs"], ["show", "1"], ["diff", "1", "1"],
                          ["methods"]] {
            let process = prepareProcess(selectjobBinary, arguments + (arguments == ["methods"] ? [] : db), in: workspace.url)
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 74, "\(arguments)")
            #expect(message.contains("standard output: cannot write"), "\(arguments): \(message)")
        }
    }

    /// A run without a selection is exit 64 for export and diff; show marks it.
    @Test func runsThatDidNotSucceedHaveNoSelectionToReadOrCompare() throws {
        for arguments in [["export", "2", "--format", "json"], ["diff", "1", "2"]] {
            let outcome = try selectjob(arguments + db, in: workspace.url)
            #expect(outcome.status == 64, "\(arguments)")
            #expect(outcome.stderr.contains("run 2 (job bad) is failed"), "\(arguments): \(outcome.stderr)")
            #expect(outcome.stdout.isEmpty)
        }
        let shown = try selectjob(["show", "2"] + db, in: workspace.url)
        #expect(shown.status == 0)
        #expect(shown.stdout.contains("selection  none: the run is failed, not succeeded"))
    }

    /// Issue 10, expected by users: an exported file says which run it came from — HDF5 attributes,
    /// a sidecar for the text formats (whose layout stays exactly as it is).
    @Test func exportsCarryTheirProvenance() throws {
        let csv = workspace.path("data/subset.csv"), h5 = workspace.path("data/subset.h5")
        #expect(try export(["-o", csv]).status == 0)
        #expect(try String(contentsOfFile: csv, encoding: .utf8).hasPrefix("rank,row_index,sample_id,score,label\n"))
        let sidecar = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: csv + ".provenance.json"))) as? [String: Any])
        let fingerprint = try FeatureTableFingerprint.of(workspace.path("data/features.h5"))
        #expect(sidecar["selectjob_run_id"] as? Int == 1 && sidecar["job"] as? String == "good" && sidecar["method"] as? String == "kmeans")
        #expect(sidecar["features_fingerprint"] as? String == fingerprint)
        #expect((sidecar["params"] as? [String: Any])?["max_iterations"] as? Int == 300)

        #expect(try selectjob(["export", "1", "--format", "hdf5", "-o", h5] + db, in: workspace.url).status == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: h5))
        for text in ["selectjob_run_id", "features_fingerprint", fingerprint] {
            #expect(bytes.range(of: Data(text.utf8)) != nil, "\(text) is an attribute of the HDF5 export")
        }
        #expect(!FileManager.default.fileExists(atPath: h5 + ".provenance.json"))
        // The JSON list stays exactly ActiveFT's --subset_ids format.
        let json = workspace.path("data/subset.json")
        #expect(try selectjob(["export", "1", "--format", "json", "-o", json] + db, in: workspace.url).status == 0)
        #expect(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) is [Int])
    }
}
