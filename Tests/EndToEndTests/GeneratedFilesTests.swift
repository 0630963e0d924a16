import Foundation
import Testing
import TestSupport

/// The files generated from the method registry (`make generated`) are committed as generated: the
/// job schema's method branches, docs/methods.md's method sections and the README's methods table.
@Suite struct GeneratedFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Regenerating a copy of the committed file with `flag` changes nothing.
    @Test(arguments: [("--schema", "schemas/job.schema.json"), ("--markdown", "docs/methods.md"), ("--markdown", "README.md")])
    func committedFileIsWhatTheRegistryGenerates(flag: String, file: String) throws {
        let folder = try TemporaryFolder(prefix: "generated")
        let committed = try Data(contentsOf: Self.root.appendingPathComponent(file))
        let copy = folder.url.appendingPathComponent("copy")
        try committed.write(to: copy)
        let outcome = try selectjob(["methods", flag, "--update", copy.path], in: folder.url, timeout: 60)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(try Data(contentsOf: copy) == committed, "\(file) differs from what the registry generates: run make generated")
    }

    /// `selectjob schema` prints the committed schema, byte for byte.
    @Test func schemaCommandPrintsTheCommittedSchema() throws {
        let folder = try TemporaryFolder(prefix: "generated")
        let outcome = try selectjob(["schema"], in: folder.url, timeout: 60)
        #expect(outcome.status == 0)
        #expect(Data(outcome.stdout.utf8) == (try Data(contentsOf: Self.root.appendingPathComponent("schemas/job.schema.json"))),
                "selectjob schema differs from schemas/job.schema.json: run make generated")
    }

    /// Without --update the branches are printed: JSON, one per method, each naming its method.
    @Test func schemaFlagPrintsOneBranchPerMethod() throws {
        let folder = try TemporaryFolder(prefix: "generated")
        let listed = try selectjob(["methods"], in: folder.url, timeout: 60).stdout
            .split(separator: "\n").dropLast().compactMap { $0.split(separator: " ").first.map(String.init) }
        let outcome = try selectjob(["methods", "--schema"], in: folder.url, timeout: 60)
        let branches = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: Any]])
        let names = branches.compactMap { (($0["properties"] as? [String: Any])?["name"] as? [String: Any])?["const"] as? String }
        #expect(names == listed)
    }

    /// A file that is not a job schema is refused (exit 65) and left as it was.
    @Test func refusesToUpdateAFileThatIsNotASchema() throws {
        let folder = try TemporaryFolder(prefix: "generated")
        let path = folder.path("notes.json")
        try Data("[1, 2]\n".utf8).write(to: URL(fileURLWithPath: path))
        let outcome = try selectjob(["methods", "--schema", "--update", path], in: folder.url, timeout: 60)
        #expect(outcome.status == 65)
        #expect(outcome.stderr.contains(path))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "[1, 2]\n")
        #expect(try selectjob(["methods", "--update", path], in: folder.url, timeout: 60).status == 64)
        // Markdown without generated sections is refused too, not appended to.
        try Data("# Notes\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try selectjob(["methods", "--markdown", "--update", path], in: folder.url, timeout: 60).status == 65)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "# Notes\n")
    }
}
