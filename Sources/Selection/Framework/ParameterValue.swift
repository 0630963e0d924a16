import Foundation

/// A parameter value as a caller gives it: the JSON data model, and nothing of files or job files.
///
/// The job layer parses job files into this tree; methods read their parameters from it through a
/// ``ParameterReader``, so every method checks its parameters with the same messages.
public enum ParameterValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// An integer literal that fits `Int64` (so seeds and counts stay exact).
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([ParameterValue])
    /// Members by key, and the keys in sorted order (for stable messages).
    case object([String: ParameterValue], keys: [String])

    /// An object from `members`, keys sorted.
    public static func object(_ members: [String: ParameterValue]) -> ParameterValue {
        .object(members, keys: members.keys.sorted())
    }

    /// The value as compact JSON, for quoting in messages (long values are shortened).
    public var quoted: String {
        let text: String
        switch self {
        case .null: text = "null"
        case let .bool(value): text = value ? "true" : "false"
        case let .integer(value): text = String(value)
        case let .number(value): text = value == value.rounded() && abs(value) < 1e15 ? String(format: "%.1f", value) : String(value)
        case let .string(value): text = "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case let .array(values): text = "[" + values.map(\.quoted).joined(separator: ", ") + "]"
        case let .object(members, keys): text = "{" + keys.map { "\"\($0)\": \(members[$0]!.quoted)" }.joined(separator: ", ") + "}"
        }
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }

    /// The value's type and the value, e.g. `string "hot"` or `null`, for "expected …, got …" messages.
    public var described: String { self == .null ? "null" : "\(typeName) \(quoted)" }

    /// A short name of the value's JSON type ("string", "integer", "object", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// The value as a plain Swift value (Bool, Int64, Double, String, arrays and dictionaries of them,
    /// `NSNull` for null), for JSON encoders.
    public var plain: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(value): return value
        case let .integer(value): return value
        case let .number(value): return value
        case let .string(value): return value
        case let .array(values): return values.map(\.plain)
        case let .object(members, _): return members.mapValues(\.plain)
        }
    }
}

/// Literals, so that a declaration states a JSON fragment as it reads (a structured parameter's schema).
extension ParameterValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ParameterValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, ParameterValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
