/// One parameter as the job parser, the schema, the docs and `selectjob methods` see it: its key, what
/// values it takes, its default and a one-line help.
///
/// Methods do not write fields: they declare ``Parameter``s, and ``MethodParameters/fields`` derives
/// these from the declarations and the parameters' initial values.
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
        /// A value of another shape (an object or a union), read by its declaration's decoder:
        /// `accepts` describes the forms in words, `schema` is the JSON Schema of the value.
        case structured(accepts: String, schema: ParameterValue)
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
        case let .structured(text, _): return text
        }
    }

    static func format(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x) }
}
