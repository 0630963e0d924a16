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

/// One parameter a method declares: its key, what values it takes, its default and a one-line help.
///
/// The declaration is the single statement of the parameter for the job parser, the schema test,
/// `selectjob methods` and the recorded parameters.
public struct ParameterField: Sendable {
    /// What values a parameter takes.
    public enum Kind: Sendable, Equatable {
        /// A finite number; `exclusiveMinimum` and `maximum` bound it when given.
        case number(exclusiveMinimum: Double?, maximum: Double?)
        /// An integer in the range.
        case integer(ClosedRange<Int64>)
        case boolean
        /// One of these strings.
        case choice([String])
        /// A value of another shape (an object or a union), read by the method itself; the text
        /// describes the accepted forms.
        case structured(String)
    }

    public let name: String
    public let kind: Kind
    /// The value used when the job does not give one; `nil`: the parameter is off when absent.
    public let defaultValue: ParameterValue?
    public let help: String

    public init(_ name: String, _ kind: Kind, default defaultValue: ParameterValue?, help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.help = help
    }

    /// The accepted values in words, e.g. "a number > 0" or "an integer in 0...1000000".
    public var accepted: String {
        switch kind {
        case let .number(minimum, maximum):
            switch (minimum, maximum) {
            case let (low?, high?): return "a number in (\(Self.format(low)), \(Self.format(high))]"
            case let (low?, nil): return "a number > \(Self.format(low))"
            case let (nil, high?): return "a number ≤ \(Self.format(high))"
            case (nil, nil): return "a number"
            }
        case let .integer(range):
            return range.upperBound == Int64.max ? "an integer ≥ \(range.lowerBound)"
                : "an integer in \(range.lowerBound)...\(range.upperBound)"
        case .boolean: return "true or false"
        case let .choice(names): return names.map { "\"\($0)\"" }.joined(separator: ", ")
        case let .structured(text): return text
        }
    }

    static func format(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
}

/// A parameter that is not of the declared kind or range: `path` is relative to the method's object
/// (e.g. `temperature`, `init.rows[1]`); the job layer prefixes where the method sits in its file.
public struct ParameterError: Error, Equatable, Sendable, CustomStringConvertible {
    public let path: String
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// Reads a method's parameters from the members of its object, checking each declared field's kind
/// and range when created, and filling in defaults.
///
/// Unknown keys are the caller's to reject (it knows which other keys, such as named inputs, the
/// object may hold). ``effective`` is what a run records: every declared field with its value or default.
public struct ParameterReader: Sendable {
    private let members: [String: ParameterValue]
    private let fields: [ParameterField]

    /// Checks every declared field present in `members`, in declaration order. O(fields).
    public init(members: [String: ParameterValue], fields: [ParameterField]) throws(ParameterError) {
        self.members = members
        self.fields = fields
        for field in fields {
            guard let value = members[field.name] else { continue }
            try Self.check(value, as: field)
        }
    }

    /// The value given for `name`, else its default. Precondition: `name` is a declared field.
    public func value(_ name: String) -> ParameterValue? {
        members[name] ?? field(name).defaultValue
    }

    /// Whether the job gave `name` explicitly.
    public func isGiven(_ name: String) -> Bool { members[name] != nil }

    public func number(_ name: String) -> Double { Self.double(value(name)!) }
    public func optionalNumber(_ name: String) -> Double? { value(name).map(Self.double) }
    public func integer(_ name: String) -> Int { Int(Self.int64(value(name)!)) }
    public func optionalInteger(_ name: String) -> Int? { value(name).map { Int(Self.int64($0)) } }
    public func bool(_ name: String) -> Bool { value(name)! == .bool(true) }
    public func choice(_ name: String) -> String {
        guard case let .string(text)? = value(name) else { preconditionFailure("\(name) is not a choice") }
        return text
    }

    /// Every declared field with its given value or default (fields without either are left out).
    public var effective: [String: ParameterValue] {
        var out: [String: ParameterValue] = [:]
        for field in fields { if let v = value(field.name) { out[field.name] = v } }
        return out
    }

    private func field(_ name: String) -> ParameterField {
        guard let field = fields.first(where: { $0.name == name }) else { preconditionFailure("undeclared parameter \(name)") }
        return field
    }

    private static func double(_ value: ParameterValue) -> Double {
        switch value {
        case let .integer(i): return Double(i)
        case let .number(x): return x
        default: preconditionFailure("not a number: \(value.quoted)")
        }
    }

    private static func int64(_ value: ParameterValue) -> Int64 {
        switch value {
        case let .integer(i): return i
        case let .number(x): return Int64(x)
        default: preconditionFailure("not an integer: \(value.quoted)")
        }
    }

    /// Checks `value` against `field`'s kind (structured fields are the method's to check).
    static func check(_ value: ParameterValue, as field: ParameterField) throws(ParameterError) {
        let path = field.name
        switch field.kind {
        case let .number(minimum, maximum):
            let x = try number(value, at: path)
            let inside = x.isFinite && (minimum.map { x > $0 } ?? true) && (maximum.map { x <= $0 } ?? true)
            guard inside else { throw ParameterError(path: path, problem: "expected \(field.accepted), got \(value.quoted)") }
        case let .integer(range):
            _ = try integer(value, at: path, in: range)
        case .boolean:
            guard case .bool = value else { throw ParameterError(path: path, problem: "expected true or false, got \(value.described)") }
        case let .choice(names):
            guard case let .string(text) = value, names.contains(text) else {
                throw ParameterError(path: path, problem: "expected \(field.accepted), got \(value.quoted)")
            }
        case .structured:
            break
        }
    }

    // MARK: Checks for structured values, with the same messages as the declared kinds.

    /// `value` as a number, or an error at `path`.
    public static func number(_ value: ParameterValue, at path: String) throws(ParameterError) -> Double {
        switch value {
        case let .integer(i): return Double(i)
        case let .number(x): return x
        default: throw ParameterError(path: path, problem: "expected a number, got \(value.described)")
        }
    }

    /// `value` as an integer in `range`, or an error at `path`.
    public static func integer(_ value: ParameterValue, at path: String, in range: ClosedRange<Int64>) throws(ParameterError) -> Int {
        let i: Int64
        switch value {
        case let .integer(v): i = v
        case let .number(x) where x == x.rounded() && abs(x) < 9.2e18: i = Int64(x)
        default: throw ParameterError(path: path, problem: "expected an integer, got \(value.described)")
        }
        guard range.contains(i) else {
            let bound = range.upperBound == Int64.max ? "≥ \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
            throw ParameterError(path: path, problem: "expected an integer \(bound), got \(value.quoted)")
        }
        return Int(i)
    }

    /// `value` as an object holding only `allowed` keys and every `required` one, or an error at `path`.
    public static func object(_ value: ParameterValue, at path: String, allowed: [String], required: [String])
        throws(ParameterError) -> [String: ParameterValue] {
        guard case let .object(members, keys) = value else {
            throw ParameterError(path: path, problem: "expected an object, got \(value.described)")
        }
        for key in keys where !allowed.contains(key) {
            throw ParameterError(path: "\(path).\(key)",
                                 problem: "unknown key; expected one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        for key in required where members[key] == nil {
            throw ParameterError(path: "\(path).\(key)", problem: "required key is missing")
        }
        return members
    }
}

import Foundation
