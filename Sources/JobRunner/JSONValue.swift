import Foundation

import Selection

/// A parsed JSON document: the method layer's parameter values, parsed and checked here.
typealias JSONValue = ParameterValue

extension ParameterValue {
    /// Parses `data`; the error text is Foundation's description of where the JSON is malformed.
    static func parse(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(DecodedJSON.self, from: data).value
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
}

/// Decodes any JSON document into a ``JSONValue``.
private struct DecodedJSON: Decodable {
    let value: JSONValue

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            var members: [String: JSONValue] = [:]
            for key in object.allKeys { members[key.stringValue] = try object.decode(DecodedJSON.self, forKey: key).value }
            value = .object(members, keys: object.allKeys.map(\.stringValue).sorted())
            return
        }
        if var array = try? decoder.unkeyedContainer() {
            var values: [JSONValue] = []
            while !array.isAtEnd { values.append(try array.decode(DecodedJSON.self).value) }
            value = .array(values)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { value = .null }
        else if let decoded = try? single.decode(Bool.self) { value = .bool(decoded) }
        else if let decoded = try? single.decode(Int64.self) { value = .integer(decoded) }
        else if let decoded = try? single.decode(Double.self) { value = .number(decoded) }
        else { value = .string(try single.decode(String.self)) }
    }
}
