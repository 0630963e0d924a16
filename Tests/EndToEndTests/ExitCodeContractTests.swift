import Foundation
import Jobs
import Testing
import TestSupport

/// The exit codes are a contract for schedulers: `--help` and the README list every one of them.
@Suite struct ExitCodeContractTests {
    @Test func helpListsEveryExitCode() throws {
        let help = try selectjob(["--help"], in: URL(fileURLWithPath: NSTemporaryDirectory())).stdout
            .replacingOccurrences(of: "\n", with: " ")
        for status in ExitStatus.allCases {
            #expect(help.range(of: "\\b\(status.rawValue)\\s+[A-Za-z(]", options: .regularExpression) != nil,
                    "--help does not list exit code \(status.rawValue)")
        }
    }

    @Test func readmeTableHasEveryExitCode() throws {
        let readme = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let rows = readme.split(separator: "\n").filter { $0.hasPrefix("| ") }
        let documented = Set(rows.flatMap { row in
            row.split(separator: "|").first.map { cell in
                cell.split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
            } ?? []
        })
        for status in ExitStatus.allCases {
            #expect(documented.contains(status.rawValue), "README's exit-code table lacks \(status.rawValue)")
        }
    }
}
