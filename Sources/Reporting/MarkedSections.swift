import Foundation

/// Generated sections of a hand-kept Markdown file (BENCHMARKS.md): each between a pair of HTML
/// comments, so a generator rewrites its own section and keeps every other byte of the file.
public enum MarkedSections {
    /// The comment that opens section `name`.
    public static func begin(_ name: String) -> String { "<!-- generated section \(name): rewritten by its generator; edit outside -->" }

    /// The comment that closes section `name`.
    public static func end(_ name: String) -> String { "<!-- end of generated section \(name) -->" }

    /// `document` with section `name`'s content replaced by `content`; everything before its opening
    /// comment and after its closing one is kept byte for byte. A document without the section gets
    /// it appended at the end. O(length of the document).
    public static func replacing(_ name: String, with content: String, in document: String) -> String {
        let block = begin(name) + "\n" + content.trimmingTrailingNewlines() + "\n" + end(name)
        guard let opening = document.range(of: begin(name)),
              let closing = document.range(of: end(name), range: opening.upperBound..<document.endIndex)
        else {
            let separator = document.isEmpty ? "" : document.hasSuffix("\n\n") ? "" : document.hasSuffix("\n") ? "\n" : "\n\n"
            return document + separator + block + "\n"
        }
        return String(document[..<opening.lowerBound]) + block + String(document[closing.upperBound...])
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
