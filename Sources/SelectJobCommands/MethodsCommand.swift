import ArgumentParser
import Foundation
import JobRunner
import Reports
import Selection

struct Methods: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the selection methods, or show one with its parameters, defaults, inputs and paper."
    )

    @Argument(help: "A method's job name (e.g. kmeans); without it, every method in one line each.")
    var name: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
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
