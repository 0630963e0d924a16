import Foundation

/// A parsed JSON document, kept exactly enough to validate a job and to quote bad values back.
enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// An integer literal that fits `Int64` (so seeds and counts stay exact).
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue], keys: [String])

    /// Parses `data`; the error text is Foundation's description of where the JSON is malformed.
    static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The first key that appears twice in one object of the (valid) JSON `data`, with the path of
    /// that object ("$" for the top level), or `nil`. A decoder would silently keep one of the two.
    /// O(length of data).
    static func firstDuplicateKey(in data: Data) -> (path: String, key: String)? {
        var stack: [(keys: Set<String>, path: String, isObject: Bool, pendingKey: String?)] = []
        let bytes = [UInt8](data)
        var i = 0
        var lastString: String?
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "\""):
                var j = i + 1
                var raw: [UInt8] = []
                while j < bytes.count, bytes[j] != UInt8(ascii: "\"") {
                    if bytes[j] == UInt8(ascii: "\\") { raw.append(bytes[j]); j += 1 }
                    if j < bytes.count { raw.append(bytes[j]) }
                    j += 1
                }
                lastString = String(decoding: raw, as: UTF8.self)
                i = j
            case UInt8(ascii: ":"):
                if let key = lastString, var top = stack.popLast(), top.isObject {
                    if top.keys.contains(key) { return (top.path, key) }
                    top.keys.insert(key)
                    top.pendingKey = key
                    stack.append(top)
                }
                lastString = nil
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let parent = stack.last
                let path = parent.map { $0.isObject ? ($0.path == "$" ? ($0.pendingKey ?? "") : "\($0.path).\($0.pendingKey ?? "")") : "\($0.path)[]" } ?? "$"
                stack.append((keys: [], path: path, isObject: bytes[i] == UInt8(ascii: "{"), pendingKey: nil))
                lastString = nil
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
                lastString = nil
            case UInt8(ascii: ","):
                lastString = nil
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// The value as compact JSON, for quoting in error messages (long values are shortened).
    var quoted: String {
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
    var described: String { self == .null ? "null" : "\(typeName) \(quoted)" }

    /// A short name of the value's JSON type ("string", "integer", "object", ...).
    var typeName: String {
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
}

extension JSONValue: Decodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys { members[key.stringValue] = try object.decode(JSONValue.self, forKey: key) }
            self = .object(members, keys: object.allKeys.map(\.stringValue).sorted())
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var values: [JSONValue] = []
            while !array.isAtEnd { values.append(try array.decode(JSONValue.self)) }
            self = .array(values)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null }
        else if let value = try? single.decode(Bool.self) { self = .bool(value) }
        else if let value = try? single.decode(Int64.self) { self = .integer(value) }
        else if let value = try? single.decode(Double.self) { self = .number(value) }
        else { self = .string(try single.decode(String.self)) }
    }
}
