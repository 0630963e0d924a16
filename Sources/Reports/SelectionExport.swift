import Foundation
import HDF5
import SelectionStore

/// The file formats a selection exports to.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// The sorted array of row indices: what ActiveFT's DeiT fine-tuning reads with `--subset_ids`.
    case json
    /// `rank,row_index,sample_id,score` with a header, one selected sample per line, in rank order.
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

    public var errorDescription: String? {
        switch self {
        case let .needsOutputFile(format): return "--format \(format) writes a binary file: give -o FILE"
        case let .cannotWrite(file, reason): return "\(file): cannot write (\(reason))"
        }
    }
}

/// Writes selections out for the fine-tuning stage. Files are written atomically: to a temporary file
/// in the destination's folder, then renamed over the destination, so a reader never sees half a file.
public enum SelectionExport {
    /// The text of `selection` in a text format (json, csv or txt). O(K log K).
    public static func text(_ selection: [SelectedSample], format: ExportFormat) -> String {
        switch format {
        case .json, .hdf5:
            return "[" + selection.map(\.rowIndex).sorted().map(String.init).joined(separator: ", ") + "]\n"
        case .csv:
            return (["rank,row_index,sample_id,score"] + selection.map { sample in
                "\(sample.rank),\(sample.rowIndex),\(csvField(sample.sampleID.description)),\(sample.score)"
            }).joined(separator: "\n") + "\n"
        case .txt:
            return selection.map { $0.sampleID.description + "\n" }.joined()
        }
    }

    /// Writes `selection` to `path` in `format`, atomically.
    public static func write(_ selection: [SelectedSample], format: ExportFormat, to path: String) throws(ExportError) {
        let destination = URL(fileURLWithPath: path)
        let temporary = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            if format == .hdf5 {
                try writeHDF5(selection, to: temporary.path)
            } else {
                try Data(text(selection, format: format).utf8).write(to: temporary)
            }
            guard rename(temporary.path, destination.path) == 0 else {
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

    private static func writeHDF5(_ selection: [SelectedSample], to path: String) throws {
        let file = try HDF5File.create(at: path)
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
