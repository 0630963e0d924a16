import Foundation
import HDF5
import Store

/// The file formats a selection exports to.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// The sorted array of row indices: what ActiveFT's DeiT fine-tuning reads with `--subset_ids`.
    case json
    /// `rank,row_index,sample_id,score` (and `label` for a pool with labels) with a header, one selected
    /// sample per line, in rank order.
    case csv
    /// One sample id per line, in rank order.
    case txt
    /// Datasets `row_indices` (int64) and `sample_ids` (int64, or strings), in rank order, plus `ranks`
    /// and `scores`.
    case hdf5
}

/// Why an export failed.
public enum ExportError: Error, Equatable, Sendable, LocalizedError {
    case needsOutputFile(format: String)
    case cannotWrite(file: String, reason: String)
    /// The output is (by device and inode) a file the command must not replace: the database, its
    /// `-wal`/`-shm`, or an input of the run; `what` says which.
    case protectedFile(file: String, what: String)

    public var errorDescription: String? {
        switch self {
        case let .needsOutputFile(format): return "--format \(format) writes a binary file: give -o FILE"
        case let .cannotWrite(file, reason): return "\(file): cannot write (\(reason))"
        case let .protectedFile(file, what):
            return "\(file): refusing to write there: it is \(what); give another output file"
        }
    }

    /// Whether the failure is the command's usage (exit 64) rather than the write (exit 74).
    public var isUsage: Bool {
        if case .protectedFile = self { return true }
        return false
    }
}

/// Files an output must never replace, each with what it is ("the database data/sel.sqlite").
public struct ProtectedFiles: Sendable {
    public var files: [(path: String, what: String)]

    public init(_ files: [(path: String, what: String)] = []) { self.files = files }

    /// The database at `path` with its `-wal` and `-shm` files.
    public static func database(_ path: String) -> [(path: String, what: String)] {
        [(path, "the database \(path)"), (path + "-wal", "the database's write-ahead log \(path)-wal"),
         (path + "-shm", "the database's shared-memory file \(path)-shm")]
    }

    /// Throws ``ExportError/protectedFile(file:what:)`` when `destination` (symbolic links already
    /// followed) is one of the files, compared by device and inode, so a hard link or another
    /// spelling of the same file is caught too. A destination that does not exist is never one. O(files).
    func check(_ destination: String, shownAs path: String) throws(ExportError) {
        var target = stat()
        guard stat(destination, &target) == 0 else { return }
        for file in files {
            var info = stat()
            if stat(file.path, &info) == 0, info.st_dev == target.st_dev, info.st_ino == target.st_ino {
                throw .protectedFile(file: path, what: file.what)
            }
        }
    }
}

/// Where an exported selection came from: recorded with it so a file can be traced to its run.
public struct ExportProvenance: Sendable, Equatable {
    public let runID: Int64
    public let job: String
    public let method: String
    public let featuresPath: String
    public let featuresFingerprint: String
    public let paramsJSON: String
    public let toolVersion: String

    public init(run: RunRecord) {
        runID = run.id
        job = run.job
        method = run.method
        featuresPath = run.featuresPath
        featuresFingerprint = run.featuresFingerprint
        paramsJSON = run.paramsJSON
        toolVersion = run.toolVersion
    }

    /// The fields as (name, text) pairs, in a fixed order.
    var fields: [(String, String)] {
        [("selectjob_run_id", String(runID)), ("job", job), ("method", method), ("features_path", featuresPath),
         ("features_fingerprint", featuresFingerprint), ("params_json", paramsJSON), ("selectjob_version", toolVersion)]
    }

    /// The sidecar's JSON text.
    var json: String {
        var object: [String: Any] = Dictionary(uniqueKeysWithValues: fields.map { ($0.0, $0.1 as Any) })
        object["selectjob_run_id"] = runID
        object["params"] = (try? JSONSerialization.jsonObject(with: Data(paramsJSON.utf8))) ?? paramsJSON
        object["params_json"] = nil
        return JSONText.encode(object, pretty: true) + "\n"
    }
}

/// Writes selections out for the fine-tuning stage.
///
/// Provenance (run id, job, method, features and their fingerprint, parameters, version) goes with a
/// file: as root attributes of an HDF5 export, and for the text formats — whose layout is fixed (the
/// JSON list is exactly what ActiveFT's `--subset_ids` reads) — in a sidecar `FILE.provenance.json`
/// written the same way beside it. Standard output, devices and FIFOs get no sidecar.
///
/// What `-o PATH` does depends on what PATH is: a regular file (or none) is replaced atomically — a
/// temporary file in the same folder, given the old file's permissions, renamed over it — so a reader
/// never sees half a file; a symbolic link is followed and its target written the same way; a device,
/// FIFO or socket is written straight through (it cannot be renamed over); `-` is standard output.
public enum SelectionExport {
    /// The text of `selection` in a text format (json, csv or txt). O(K log K).
    public static func text(_ selection: [SelectedSample], format: ExportFormat) -> String {
        switch format {
        case .json, .hdf5:
            return "[" + selection.map(\.rowIndex).sorted().map(String.init).joined(separator: ", ") + "]\n"
        case .csv:
            // A pool with labels gets a label column (empty where a sample has none).
            let labelled = selection.contains { $0.label != nil }
            return ([labelled ? "rank,row_index,sample_id,score,label" : "rank,row_index,sample_id,score"] + selection.map { sample in
                "\(sample.rank),\(sample.rowIndex),\(csvField(sample.sampleID.description)),\(sample.score)"
                    + (labelled ? "," + (sample.label.map(String.init) ?? "") : "")
            }).joined(separator: "\n") + "\n"
        case .txt:
            return selection.map { $0.sampleID.description + "\n" }.joined()
        }
    }

    /// Writes `selection` to `path` in `format` (see the type's summary for what each kind of path gets).
    public static func write(_ selection: [SelectedSample], format: ExportFormat, to path: String,
                             provenance: ExportProvenance? = nil, protecting: ProtectedFiles = ProtectedFiles()) throws(ExportError) {
        if path == "-" {
            try writeThrough(bytes(selection, format: format, file: "standard output", provenance: provenance),
                             descriptor: STDOUT_FILENO, file: "standard output")
            return
        }
        let destination = try resolvingSymbolicLinks(path)
        try protecting.check(destination, shownAs: path)
        var info = stat()
        let exists = stat(destination, &info) == 0
        let kind = info.st_mode & S_IFMT
        if exists, kind == S_IFDIR {
            throw .cannotWrite(file: path, reason: "is a directory")
        }
        if exists, kind != S_IFREG {
            // A device, FIFO or socket: it cannot be replaced by rename, and must not be.
            let data = try bytes(selection, format: format, file: path, provenance: provenance)
            let descriptor = open(destination, O_WRONLY | O_NOCTTY)
            guard descriptor >= 0 else { throw .cannotWrite(file: path, reason: String(cString: strerror(errno))) }
            defer { close(descriptor) }
            try writeThrough(data, descriptor: descriptor, file: path)
            return
        }
        if let provenance, format != .hdf5 {
            try replaceAtomically(destination + ".provenance.json", shownAs: path + ".provenance.json") { temporary in
                try Data(provenance.json.utf8).write(to: temporary)
            }
        }
        try replaceAtomically(destination, shownAs: path) { temporary in
            if format == .hdf5 {
                try writeHDF5(selection, to: temporary.path, provenance: provenance)
            } else {
                try Data(text(selection, format: format).utf8).write(to: temporary)
            }
        }
    }

    /// Writes a regular file through a temporary file in its folder renamed over it, keeping the
    /// permissions (and owner) of the file it replaces.
    static func replaceAtomically(_ destination: String, shownAs path: String,
                                          _ fill: (URL) throws -> Void) throws(ExportError) {
        var info = stat()
        let exists = stat(destination, &info) == 0
        let target = URL(fileURLWithPath: destination)
        let temporary = target.deletingLastPathComponent()
            .appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try fill(temporary)
            if exists {
                // Keep the replaced file's permissions (and owner, where we may set it).
                _ = chmod(temporary.path, info.st_mode & 0o7777)
                _ = chown(temporary.path, info.st_uid, info.st_gid)
            }
            guard rename(temporary.path, destination) == 0 else {
                throw ExportError.cannotWrite(file: path, reason: String(cString: strerror(errno)))
            }
        } catch let error as ExportError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw .cannotWrite(file: path, reason: (error as? HDF5Error)?.description ?? error.localizedDescription)
        }
    }

    /// The bytes of `selection` in `format`; HDF5 is built in a temporary file and read back.
    private static func bytes(_ selection: [SelectedSample], format: ExportFormat, file: String,
                              provenance: ExportProvenance?) throws(ExportError) -> Data {
        guard format == .hdf5 else { return Data(text(selection, format: format).utf8) }
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("selectjob-export-\(UUID().uuidString).h5")
        defer { try? FileManager.default.removeItem(at: temporary) }
        do {
            try writeHDF5(selection, to: temporary.path, provenance: provenance)
            return try Data(contentsOf: temporary)
        } catch {
            throw .cannotWrite(file: file, reason: (error as? HDF5Error)?.description ?? error.localizedDescription)
        }
    }

    /// Writes every byte to an open descriptor, retrying short writes and EINTR.
    static func writeThrough(_ data: Data, descriptor: Int32, file: String) throws(ExportError) {
        let failure: Int32? = data.withUnsafeBytes { raw -> Int32? in
            var offset = 0
            while offset < raw.count {
                let written = Foundation.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += written
            }
            return nil
        }
        if let failure { throw .cannotWrite(file: file, reason: String(cString: strerror(failure))) }
    }

    /// The longest chain of symbolic links followed (Linux's own limit, as in ELOOP).
    static let maximumSymbolicLinks = 40

    /// `path` with symbolic links followed to what they name (which need not exist yet). A chain
    /// longer than ``maximumSymbolicLinks`` (a loop) is refused: the last link must not be replaced.
    static func resolvingSymbolicLinks(_ path: String) throws(ExportError) -> String {
        var current = path
        for _ in 0..<maximumSymbolicLinks {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current }
            current = target.hasPrefix("/") ? target
                : URL(fileURLWithPath: current).deletingLastPathComponent().appendingPathComponent(target).path
        }
        throw .cannotWrite(file: path, reason: "too many levels of symbolic links (a loop?)")
    }

    private static func writeHDF5(_ selection: [SelectedSample], to path: String, provenance: ExportProvenance?) throws {
        let file = try HDF5File.create(at: path)
        for (name, value) in provenance?.fields ?? [] { try file.setAttribute(name, string: value) }
        try file.write(int64s: selection.map { Int64($0.rowIndex) }, to: "row_indices")
        try file.write(int64s: selection.map { Int64($0.rank) }, to: "ranks")
        try file.write(doubles: selection.map(\.score), to: "scores")
        let integers = selection.compactMap { sample -> Int64? in
            if case let .integer(id) = sample.sampleID { return id }
            return nil
        }
        if integers.count == selection.count {
            try file.write(int64s: integers, to: "sample_ids")
        } else {
            try file.write(strings: selection.map(\.sampleID.description), to: "sample_ids")
        }
        file.flush()
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
