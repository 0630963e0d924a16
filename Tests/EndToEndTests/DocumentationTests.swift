import Foundation
import Testing
import TestSupport

/// The README is the front door and docs/ the reference: every relative link in them resolves to a
/// file of the repository and, with a `#fragment`, to a heading of that file.
@Suite struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The documents checked: README.md, QUALITY.md, CHANGELOG.md and every docs/*.md.
    static func documents() throws -> [URL] {
        let docs = try FileManager.default.contentsOfDirectory(at: root.appendingPathComponent("docs"),
                                                               includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
        return ["README.md", "QUALITY.md", "CHANGELOG.md"].map { root.appendingPathComponent($0) } + docs
    }

    /// GitHub's anchor of a heading: lower case, punctuation other than `-` and `_` dropped, spaces as `-`.
    static func anchor(_ heading: String) -> String {
        String(heading.lowercased().unicodeScalars.filter {
            CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" || $0 == " "
        }.map(Character.init)).replacingOccurrences(of: " ", with: "-")
    }

    /// Lines outside ``` fences.
    static func prose(_ text: String) -> [Substring] {
        var inFence = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            if line.hasPrefix("```") { inFence.toggle(); return false }
            return !inFence
        }
    }

    static func anchors(of file: URL) throws -> Set<String> {
        Set(prose(try String(contentsOf: file, encoding: .utf8)).compactMap { line -> String? in
            guard let match = line.firstMatch(of: /^#{1,6} (.*)$/) else { return nil }
            return anchor(String(match.1))
        })
    }

    @Test func everyRelativeLinkResolves() throws {
        let documents = try Self.documents()
        #expect(documents.count > 8)
        for document in documents {
            for line in Self.prose(try String(contentsOf: document, encoding: .utf8)) {
                for match in line.matches(of: /\[[^\]]*\]\(([^)\s]+)\)/) {
                    let target = String(match.1)
                    guard !target.hasPrefix("http:"), !target.hasPrefix("https:"), !target.hasPrefix("mailto:") else { continue }
                    let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                    let file = parts[0].isEmpty ? document
                        : document.deletingLastPathComponent().appendingPathComponent(String(parts[0])).standardizedFileURL
                    #expect(FileManager.default.fileExists(atPath: file.path), "\(document.lastPathComponent): \(target) does not exist")
                    if parts.count == 2, file.pathExtension == "md", FileManager.default.fileExists(atPath: file.path) {
                        #expect(try Self.anchors(of: file).contains(String(parts[1])),
                                "\(document.lastPathComponent): \(target) names no heading of \(file.lastPathComponent)")
                    }
                }
            }
        }
    }

    /// The README stays a front door: short, with the reference in docs/.
    @Test func readmeIsAFrontDoor() throws {
        let lines = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 300, "README.md has \(lines.count) lines; move reference material to docs/")
    }
}
