import ArgumentParser
import Foundation
import Jobs
import Reporting
import Selection

struct Methods: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the selection methods, or show one with its parameters, defaults, inputs and paper."
    )

    @Argument(help: "A method's job name (e.g. kmeans); without it, every method in one line each.")
    var name: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .long, help: "Print the job schema's method branches (properties.method.oneOf), generated from the registry.")
    var schema = false

    @Flag(name: .long, help: "Print the README's methods table and docs/methods.md's sections (each method's parameters and inputs).")
    var markdown = false

    @Option(name: .long, help: ArgumentHelp(
        "With --schema or --markdown: rewrite the generated parts of this file in place (make generated).",
        valueName: "file"))
    var update: String?

    func validate() throws {
        if schema && markdown { throw ValidationError("give --schema or --markdown, not both") }
        if update != nil && !(schema || markdown) { throw ValidationError("--update needs --schema or --markdown") }
        if (schema || markdown) && (name != nil || json) {
            throw ValidationError("--schema and --markdown describe every method: give no NAME and no --json")
        }
    }

    func run() throws {
        if schema || markdown { return try generate() }
        guard let name else {
            if json {
                try emit(jsonText(MethodRegistry.all.map(description)))
            } else {
                let width = MethodRegistry.names.map(\.count).max() ?? 0
                for method in MethodRegistry.all {
                    try emit(method.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + method.summary)
                }
                try emit("\nselectjob methods NAME shows a method's parameters, defaults, inputs and paper.")
            }
            return
        }
        guard let method = MethodRegistry.method(named: name) else {
            printError("no method named \"\(name)\"; methods: \(MethodRegistry.names.joined(separator: ", "))")
            throw ExitCode(ExitStatus.badJob.rawValue)
        }
        if json {
            try emit(jsonText(description(method)))
            return
        }
        var lines = ["\(method.name): \(method.summary)", "", "Reference: \(method.reference)", ""]
        if method.parameterFields.isEmpty {
            lines.append("Parameters: none")
        } else {
            lines.append("Parameters (\"method\": {\"name\": \"\(method.name)\", ...}):")
            for field in method.parameterFields {
                let fallback = field.defaultValue.map { "default \($0.quoted)" } ?? "no default: off unless given"
                lines.append("  \(field.name)  \(field.accepted); \(fallback)")
                lines.append("      \(field.help)")
            }
        }
        if !method.inputs.isEmpty {
            lines.append("")
            lines.append("Inputs:")
            for input in method.inputs {
                let form = switch input.kind {
                case .features: #"{"path": F, "dataset": D, "rows": [start, end]}"#
                case .predictions: #"{"path": F, "dataset": D, "kind": "probabilities" | "logits"}"#
                case .validation: #"{"path": F, "dataset": D, "labels": L, "predicted": P}"#
                }
                lines.append("  \(input.name)  \(input.required ? "required" : "optional") \(form): \(input.help)")
            }
        }
        lines.append("")
        lines.append("Samples already labelled (the job's \"labelled\"): \(method.labelledUse.description)")
        try emit(lines.joined(separator: "\n"))
    }

    /// Prints the generated schema branches or Markdown sections, or writes them into `update`'s file.
    private func generate() throws {
        guard let update else {
            let text = schema ? ParameterValue.array(MethodRegistry.all.map(MethodCatalog.schemaBranch)).json(pretty: true)
                : ([MethodCatalog.markdownTable()] + MethodRegistry.all.map(MethodCatalog.markdownSection)).joined(separator: "\n\n")
            return try emit(text)
        }
        let url = URL(fileURLWithPath: update)
        let existing: Data
        do { existing = try Data(contentsOf: url) } catch {
            printError("\(update): cannot read it (\(error.localizedDescription))")
            throw ExitCode(ExitStatus.badJob.rawValue)
        }
        var text: String
        if schema {
            do { text = try MethodCatalog.updatingSchema(existing) } catch {
                printError("\(update): not a job schema (JSON with an object at properties.method)")
                throw ExitCode(ExitStatus.badData.rawValue)
            }
        } else {
            // The generated sections the file already has: the methods table, and the method
            // sections (a method without one yet gets it appended).
            text = String(decoding: existing, as: UTF8.self)
            let hasTable = text.contains(MarkedSections.begin(MethodCatalog.tableName))
            let hasSections = MethodRegistry.all.contains { text.contains(MarkedSections.begin(MethodCatalog.sectionName($0))) }
            guard hasTable || hasSections else {
                printError("\(update): no generated method sections to update (\"\(MarkedSections.begin(MethodCatalog.tableName))\" or \"\(MarkedSections.begin("method NAME"))\")")
                throw ExitCode(ExitStatus.badData.rawValue)
            }
            if hasTable {
                text = MarkedSections.replacing(MethodCatalog.tableName, with: MethodCatalog.markdownTable(), in: text)
            }
            for method in MethodRegistry.all where hasSections {
                text = MarkedSections.replacing(MethodCatalog.sectionName(method), with: MethodCatalog.markdownSection(method),
                                                in: text)
            }
        }
        guard Data(text.utf8) != existing else { return }
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            printError("\(update): cannot write it (\(error.localizedDescription))")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
    }

    private func description(_ method: any SelectionMethod.Type) -> [String: Any] {
        [
            "name": method.name, "summary": method.summary, "reference": method.reference,
            "parameters": method.parameterFields.map { field -> [String: Any] in
                var out: [String: Any] = ["name": field.name, "accepts": field.accepted, "help": field.help]
                if let value = field.defaultValue { out["default"] = value.plain }
                return out
            },
            "inputs": method.inputs.map {
                ["name": $0.name, "required": $0.required, "help": $0.help,
                 "kind": "\($0.kind)"] as [String: Any]
            },
            "labelled": method.labelledUse.description,
        ]
    }

    private func jsonText(_ object: Any) -> String { JSONText.encode(object, pretty: true) }
}
