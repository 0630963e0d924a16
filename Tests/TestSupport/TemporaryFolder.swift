import Foundation

/// A fresh folder under the system's temporary directory, removed with everything in it when the
/// last reference goes (one per test: tests run in parallel).
public final class TemporaryFolder {
    public let url: URL

    /// Creates `selectjob-PREFIX-UUID` in the temporary directory.
    public init(prefix: String = "tests") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("selectjob-\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `relative` inside the folder.
    public func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }
}
