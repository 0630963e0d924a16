/// A method's typed parameters: a value type whose stored properties start at their defaults, and the
/// list of their declarations.
///
/// Each parameter is stated once, as a ``Parameter`` in ``parameters``; its default is the property's
/// initial value. Everything else — the fields the job parser checks, reading a job's values, the
/// schema's method branch, docs/methods.md and `selectjob methods` — is derived from that list.
public protocol MethodParameters: Sendable, Equatable {
    /// Every parameter, in the order `selectjob methods` and the docs show them.
    static var parameters: [Parameter<Self>] { get }
    /// The parameters with every default.
    init()
}

extension MethodParameters {
    /// The declared parameters as fields, each with its default read from `Self()`.
    public static var fields: [ParameterField] {
        let defaults = Self()
        return parameters.map { $0.field(defaults: defaults) }
    }

    /// The parameters a job gives, kinds and ranges already checked by `reader` against ``fields``;
    /// absent ones keep their defaults. O(parameters).
    public init(_ reader: ParameterReader) throws(ParameterError) {
        self.init()
        for parameter in Self.parameters { try parameter.decode(&self, reader) }
    }
}

/// A method parameter declared once: its key in the job's `method` object, the values it accepts, a
/// one-line help, and the stored property that holds it; its default is that property's value in
/// `Root()`.
///
/// The counterpart of swift-argument-parser's `@Option`, as a key-path declaration (parameters are
/// plain `Equatable` values that methods construct directly too):
///
/// ```swift
/// static var parameters: [Parameter<Self>] {
///     [.number("bandwidth", \.bandwidth, above: 0, help: "h, the Gaussian kernel's bandwidth.")]
/// }
/// ```
public struct Parameter<Root> {
    public let name: String
    public let kind: ParameterField.Kind
    public let help: String
    /// The value a `Root` holds, as a job would write it; `nil`: the parameter is off.
    let encode: (Root) -> ParameterValue?
    /// Stores the job's value, or the default, into a `Root` (kind and range already checked).
    let decode: (inout Root, ParameterReader) throws(ParameterError) -> Void

    /// The field this declares, with `defaults`' value of it as the default.
    public func field(defaults: Root) -> ParameterField {
        ParameterField(name, kind, default: encode(defaults), help: help)
    }

    /// This declaration for a `Root` stored at `path` of an `Outer`: a group of parameters that several
    /// methods share (the Active Transfer Learning head).
    public func nested<Outer>(at path: WritableKeyPath<Outer, Root>) -> Parameter<Outer> {
        let (encode, decode) = (encode, decode)
        return Parameter<Outer>(name: name, kind: kind, help: help,
                                encode: { encode($0[keyPath: path]) },
                                decode: { (outer: inout Outer, reader: ParameterReader) throws(ParameterError) in
                                    try decode(&outer[keyPath: path], reader)
                                })
    }
}

extension Parameter {
    /// A finite number, greater than `minimum` and at most `maximum` when given.
    public static func number(_ name: String, _ path: WritableKeyPath<Root, Double>, above minimum: Double? = nil,
                              atMost maximum: Double? = nil, help: String) -> Parameter {
        Parameter(name: name, kind: .number(exclusiveMinimum: minimum, maximum: maximum), help: help,
                  encode: { .number($0[keyPath: path]) },
                  decode: { root, reader in root[keyPath: path] = reader.number(name) })
    }

    /// An integer in `range`.
    public static func integer(_ name: String, _ path: WritableKeyPath<Root, Int>, in range: ClosedRange<Int64>,
                               help: String) -> Parameter {
        Parameter(name: name, kind: .integer(range), help: help,
                  encode: { .integer(Int64($0[keyPath: path])) },
                  decode: { root, reader in root[keyPath: path] = reader.integer(name) })
    }

    /// An integer in `range`, or off (`nil`) when the job does not give it.
    public static func integer(_ name: String, _ path: WritableKeyPath<Root, Int?>, in range: ClosedRange<Int64>,
                               help: String) -> Parameter {
        Parameter(name: name, kind: .integer(range), help: help,
                  encode: { $0[keyPath: path].map { .integer(Int64($0)) } },
                  decode: { root, reader in root[keyPath: path] = reader.optionalInteger(name) })
    }

    /// `true` or `false`.
    public static func boolean(_ name: String, _ path: WritableKeyPath<Root, Bool>, help: String) -> Parameter {
        Parameter(name: name, kind: .boolean, help: help,
                  encode: { .bool($0[keyPath: path]) },
                  decode: { root, reader in root[keyPath: path] = reader.bool(name) })
    }

    /// One of a string enumeration's raw values, in case order.
    public static func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, _ path: WritableKeyPath<Root, Choice>, help: String
    ) -> Parameter where Choice.RawValue == String {
        Parameter(name: name, kind: .choice(Choice.allCases.map(\.rawValue)), help: help,
                  encode: { .string($0[keyPath: path].rawValue) },
                  decode: { root, reader in root[keyPath: path] = Choice(rawValue: reader.choice(name))! })
    }

    /// A value of another shape: `accepts` in words and `schema` as JSON Schema; `encode` writes a value
    /// as a job would (`nil`: off), `decode` reads and checks one, throwing at paths under `name`.
    public static func structured<Value>(
        _ name: String, _ path: WritableKeyPath<Root, Value>, accepts: String, schema: ParameterValue,
        encode: @escaping (Value) -> ParameterValue?,
        decode: @escaping (ParameterValue) throws(ParameterError) -> Value, help: String
    ) -> Parameter {
        Parameter(name: name, kind: .structured(accepts: accepts, schema: schema), help: help,
                  encode: { encode($0[keyPath: path]) },
                  decode: { (root: inout Root, reader: ParameterReader) throws(ParameterError) in
                      if let value = reader.value(name) { root[keyPath: path] = try decode(value) }
                  })
    }
}
