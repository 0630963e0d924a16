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

    public func number(_ name: String) -> Double { Self.double(value(name)!) }
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
