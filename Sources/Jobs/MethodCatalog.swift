import Foundation

import Selection

/// The registry's methods as the job file's schema and docs/methods.md describe them, generated from
/// the declarations (``MethodParameters/parameters``, ``SelectionMethod/inputs``), so neither file can
/// drift from the parser. `selectjob methods --schema / --markdown` print or update them.
public enum MethodCatalog {
    /// The schema's branch for `method`: an object with `"name"` fixed, every parameter with its kind,
    /// range, default and help, and every input by reference to its `$defs` entry.
    public static func schemaBranch(_ method: any SelectionMethod.Type) -> ParameterValue {
        var properties: [String: ParameterValue] = ["name": ["const": .string(method.name)]]
        for field in method.parameterFields {
            var property = schema(of: field.kind)
            property["description"] = .string(field.help)
            if let value = field.defaultValue { property["default"] = value }
            properties[field.name] = .object(property)
        }
        for input in method.inputs {
            properties[input.name] = ["description": .string(input.help), "$ref": .string(definition(of: input.kind))]
        }
        let required = ["name"] + method.inputs.filter(\.required).map(\.name)
        return ["title": .string(method.summary), "type": "object", "additionalProperties": false,
                "required": .array(required.map(ParameterValue.string)), "properties": .object(properties)]
    }

    /// `schemaText` (the committed `schemas/job.schema.json`) with `properties.method.oneOf` replaced
    /// by the registry's branches, in registry order, written as ``ParameterValue/json(pretty:indent:)``. The rest of the
    /// schema is kept as it is (keys in sorted order). Throws when the text is not a job schema.
    public static func updatingSchema(_ schemaText: Data) throws(CatalogError) -> String {
        guard case var .object(root, _) = try? ParameterValue.parse(schemaText),
              case var .object(properties, _)? = root["properties"],
              case var .object(method, _)? = properties["method"]
        else { throw CatalogError.notASchema }
        method["oneOf"] = .array(MethodRegistry.all.map(schemaBranch))
        properties["method"] = .object(method)
        root["properties"] = .object(properties)
        return ParameterValue.object(root).json(pretty: true) + "\n"
    }

    /// `method`'s section of docs/methods.md: its name, summary and reference, a table of its
    /// parameters and inputs (key, accepted values, default, meaning), and what it does with samples
    /// labelled in earlier rounds.
    public static func markdownSection(_ method: any SelectionMethod.Type) -> String {
        var lines = ["**`\(method.name)`** — \(method.summary) *\(method.reference).*"]
        var rows: [String] = []
        for field in method.parameterFields {
            let shown = field.defaultValue.map { "`\($0.quoted)`" } ?? "none"
            rows.append("| `\(field.name)` | \(cell(field.accepted)) | \(cell(shown)) | \(cell(field.help)) |")
        }
        for input in method.inputs {
            let keys = inputKeys(input.kind).map { "\"\($0)\"" }.joined(separator: ", ")
            rows.append("| `\(input.name)` | an input: `{\(keys)}` | \(input.required ? "required" : "none") | \(cell(input.help)) |")
        }
        if !rows.isEmpty {
            lines += ["", "| key | accepts | default | meaning |", "|---|---|---|---|"] + rows
        }
        lines += ["", "*Labelled samples:* \(method.labelledUse.description)"]
        return lines.joined(separator: "\n")
    }

    /// The README's table of methods: each method's job name, what it selects and its paper.
    public static func markdownTable() -> String {
        (["| `method.name` | what it selects | paper |", "|---|---|---|"]
            + MethodRegistry.all.map { "| `\($0.name)` | \(cell($0.summary)) | \(cell($0.reference)) |" })
            .joined(separator: "\n")
    }

    /// The name of the README's generated methods table.
    public static let tableName = "methods table"

    /// The name of `method`'s generated section in docs/methods.md.
    public static func sectionName(_ method: any SelectionMethod.Type) -> String { "method \(method.name)" }

    /// Why a file could not be updated.
    public enum CatalogError: Error, Equatable {
        /// The text is not JSON with `properties.method` an object.
        case notASchema
    }

    // MARK: Pieces

    /// The JSON Schema of a parameter of `kind`.
    static func schema(of kind: ParameterField.Kind) -> [String: ParameterValue] {
        switch kind {
        case let .number(minimum, maximum):
            var out: [String: ParameterValue] = ["type": "number"]
            if let minimum { out["exclusiveMinimum"] = .number(minimum) }
            if let maximum { out["maximum"] = .number(maximum) }
            return out
        case let .integer(range):
            var out: [String: ParameterValue] = ["type": "integer", "minimum": .integer(range.lowerBound)]
            if range.upperBound != Int64.max { out["maximum"] = .integer(range.upperBound) }
            return out
        case .boolean:
            return ["type": "boolean"]
        case let .choice(names):
            return ["enum": .array(names.map(ParameterValue.string))]
        case let .structured(_, schema):
            guard case let .object(members, _) = schema else { return ["oneOf": [schema]] }
            return members
        }
    }

    /// The `$defs` entry an input of `kind` refers to.
    static func definition(of kind: MethodInput.Kind) -> String {
        switch kind {
        case .features: "#/$defs/featureInput"
        case .predictions: "#/$defs/predictionsInput"
        case .validation: "#/$defs/validationInput"
        }
    }

    /// The keys an input of `kind` accepts (``JobSpec/acceptedKeys``).
    static func inputKeys(_ kind: MethodInput.Kind) -> [String] {
        switch kind {
        case .features: JobSpec.acceptedKeys["method input"]!
        case .predictions: JobSpec.acceptedKeys["predictions input"]!
        case .validation: JobSpec.acceptedKeys["validation input"]!
        }
    }

    /// `text` fit for a Markdown table cell: `|` escaped.
    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}

