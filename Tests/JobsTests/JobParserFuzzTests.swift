import Foundation
@testable import Jobs
import Selection
import Testing

/// Random mutations of valid jobs: the parser never crashes; it accepts a job or names the problem.
@Suite struct JobParserFuzzTests {
    static let seeds = [
        #"{"name": "a", "features": {"path": "f.h5", "dataset": "features", "ids": "ids"}, "method": {"name": "activeft", "temperature": 0.07, "iterations": 300, "init": {"rows": [1, 2, 3]}}, "budget": {"count": 3}, "seed": 0}"#,
        #"{"name": "b", "features": {"path": "f.npy"}, "method": {"name": "vtl", "noise_variance": 0.01, "targets": {"path": "t.h5", "rows": [0, 10]}, "prefilter": {"k": 5}}, "budget": {"percent": 1.5}, "schedule": "0 3 * * *"}"#,
    ]
    static let fragments = ["{", "}", "[", "]", ",", ":", "\"", "null", "true", "-1", "0", "1e309", "\"x\"", "[]", "{}",
                            "\"name\"", "\"budget\"", "\\u0000", "é", "9007199254740993", "0.5", " "]

    /// One random edit of `text`: delete, insert, duplicate or replace a span.
    static func mutate(_ text: String, _ generator: inout SeededGenerator) -> String {
        var characters = Array(text)
        let edits = Int.random(in: 1...3, using: &generator)
        for _ in 0..<edits where !characters.isEmpty {
            let at = Int.random(in: 0..<characters.count, using: &generator)
            let length = min(Int.random(in: 1...6, using: &generator), characters.count - at)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: characters.removeSubrange(at..<(at + length))
            case 1: characters.insert(contentsOf: fragments.randomElement(using: &generator)!, at: at)
            case 2: characters.insert(contentsOf: characters[at..<(at + length)], at: at)
            default: characters.replaceSubrange(at..<(at + length), with: fragments.randomElement(using: &generator)!)
            }
        }
        return String(characters)
    }

    @Test func mutatedJobsAreAcceptedOrRejectedWithAMessage() {
        var generator = SeededGenerator(seed: 20_261_121)
        var accepted = 0, rejected = 0
        for _ in 0..<4000 {
            let text = Self.mutate(Self.seeds.randomElement(using: &generator)!, &generator)
            do {
                let spec = try JobSpec.parse(Data(text.utf8), file: "fuzz.json", folder: URL(fileURLWithPath: "/jobs"))
                #expect(!spec.name.isEmpty)
                accepted += 1
            } catch {
                let message = error.errorDescription ?? ""
                #expect(message.hasPrefix("fuzz.json: ") && message.count > "fuzz.json: ".count + 5, "\(message)")
                rejected += 1
            }
        }
        #expect(accepted > 0 && rejected > 0, "the mutations must reach both outcomes: \(accepted) accepted, \(rejected) rejected")
    }
}
