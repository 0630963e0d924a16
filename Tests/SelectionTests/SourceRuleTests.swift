import Foundation
import Testing

/// Rules about the code itself, checked on the sources (issue 10, item 14).
@Suite struct SourceRuleTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources")

    static func swiftFiles() throws -> [(path: String, text: String)] {
        let enumerator = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        return try enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
            .map { ($0.path, try String(contentsOf: $0, encoding: .utf8)) }
    }

    /// A pointer taken inside `withUnsafe…Pointer { $0.baseAddress }` and returned from the closure
    /// outlives it: undefined behaviour. Pointers for parallel loops come from `withSharedPointers`.
    @Test func noPointerEscapesTheClosureThatProducedIt() throws {
        let files = try Self.swiftFiles()
        #expect(files.count > 20)
        for (path, text) in files {
            for forbidden in ["Pointer { $0.baseAddress", "Pointer { $0.baseAddress!", ".allocate(capacity: 0)"] {
                #expect(!text.contains(forbidden), "\(path) contains \(forbidden)")
            }
        }
    }

    /// The math (Selection) and the store (SelectionStore) speak their own terms: no job-file or
    /// command-line words in their messages; the command layer adds those (`userMessage`).
    @Test func mathAndStoreUseNoInterfaceWords() throws {
        let layers = try Self.swiftFiles().filter { $0.path.contains("/Sources/Selection/") || $0.path.contains("/Sources/Store/") }
        #expect(layers.count > 10)
        for (path, text) in layers {
            for word in ["mpirun", "--db", "\"labelled\"", "SELECTJOB_DB"] {
                #expect(!text.contains(word), "\(path) says \(word)")
            }
        }
    }
}
