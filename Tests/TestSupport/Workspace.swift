import FeatureIO
import Foundation
import GRDB
import HDF5
import SyntheticData

/// A temporary project folder with a generated feature file and job files.
public final class Workspace {
    private let folder: TemporaryFolder
    public var url: URL { folder.url }

    public init() throws {
        folder = try TemporaryFolder(prefix: "e2e")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("jobs"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: url.appendingPathComponent("data"), withIntermediateDirectories: true)
    }

    public func path(_ relative: String) -> String { folder.path(relative) }

    /// Writes a labelled mixture of `rows × dimensions` features with ids 1,000,000 + row, then
    /// whatever `more` writes to the same file.
    public func writeFeatures(_ relative: String = "data/features.h5", rows: Int = 600, dimensions: Int = 16,
                       transform: (inout [Float]) -> Void = { _ in }, more: (HDF5File) throws -> Void = { _ in }) throws {
        var (features, labels) = GaussianMixture(rows: rows, dimensions: dimensions, classes: 5, subclustersPerClass: 2)
            .generate(seed: 11)
        transform(&features)
        let file = try HDF5File.create(at: path(relative))
        try file.write(floats: features, shape: [rows, dimensions], to: "features", chunkRows: 128, gzipLevel: 4)
        try file.write(int64s: labels, to: "labels")
        try file.write(int64s: (0..<rows).map { 1_000_000 + Int64($0) }, to: "ids")
        try more(file)
    }

    /// Writes `jobs/NAME.json` with the given method and budget JSON; the database is data/sel.sqlite.
    @discardableResult
    public func writeJob(_ name: String, method: String = #"{"name": "activeft", "iterations": 40}"#,
                  budget: String = #"{"percent": 5}"#, features: String = "../data/features.h5",
                  extra: String = #", "database": "../data/sel.sqlite""#) throws -> String {
        let json = """
            {"name": "\(name)", "features": {"path": "\(features)", "dataset": "features", "ids": "ids", "labels": "labels"},
             "method": \(method), "budget": \(budget), "seed": 7\(extra)}
            """
        try Data(json.utf8).write(to: url.appendingPathComponent("jobs/\(name).json"))
        return "jobs/\(name).json"
    }

    public func database(_ relative: String = "data/sel.sqlite") throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        return try DatabaseQueue(path: path(relative), configuration: configuration)
    }
}

/// The fingerprint selectjob records for a feature file written by ``Workspace/writeFeatures``.
public enum FeatureTableFingerprint {
    public static func of(_ path: String) throws -> String {
        try FeatureTable.load(FeatureSource(path: path, dataset: "features", ids: "ids", labels: "labels")).fingerprint
    }
}
