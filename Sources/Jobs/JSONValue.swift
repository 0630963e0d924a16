import Foundation

import Selection

/// A parsed JSON document: the method layer's parameter values, parsed and checked here.
typealias JSONValue = ParameterValue

/// Why a job's JSON text was rejected: malformed at a line and column, or a key given twice.
enum JSONParseError: Error, Equatable {
    case syntax(line: Int, column: Int, problem: String)
    /// `path` is the object's path ("$" for the top level); keys are compared after decoding escapes.
    case duplicateKey(path: String, key: String)
}

extension ParameterValue {
    /// Parses `data` strictly (RFC 8259): no trailing commas, comments or bare words; keys compared
    /// after decoding escapes, so `{"seed": 1, "se\u0065d": 2}` is a duplicate. O(length of data).
    static func parse(_ data: Data) throws(JSONParseError) -> JSONValue {
        var parser = StrictJSONParser(bytes: [UInt8](data))
        return try parser.document()
    }
}

/// A recursive-descent JSON parser that knows where it is: every error names the line and column.
private struct StrictJSONParser {
    let bytes: [UInt8]
    var position = 0
    /// Deep nesting is refused rather than allowed to exhaust the stack.
    static let maximumDepth = 256

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(JSONParseError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { position = 3 }  // a UTF-8 byte-order mark
        skipWhitespace()
        let value = try parseValue(path: "$", depth: 0)
        skipWhitespace()
        guard position == bytes.count else { throw fail("unexpected \(describeNext()) after the JSON value") }
        return value
    }

    func fail(_ problem: String) -> JSONParseError {
        var line = 1, column = 1
        var i = 0
        while i < min(position, bytes.count) {
            if bytes[i] == UInt8(ascii: "\n") { line += 1; column = 1 }
            else if bytes[i] & 0xC0 != 0x80 { column += 1 }  // count characters, not UTF-8 continuation bytes
            i += 1
        }
        return .syntax(line: line, column: column, problem: problem)
    }

    func describeNext() -> String {
        guard position < bytes.count else { return "end of file" }
        let byte = bytes[position]
        if byte >= 0x21, byte < 0x7F { return "'\(Character(UnicodeScalar(byte)))'" }
        return String(format: "byte 0x%02X", byte)
    }

    mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONParseError) {
        guard position < bytes.count, bytes[position] == byte else { throw fail("expected \(what), found \(describeNext())") }
        position += 1
    }

    mutating func parseValue(path: String, depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw fail("nesting deeper than \(Self.maximumDepth) levels") }
        guard position < bytes.count else { throw fail("expected a value, found end of file") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(path: path, depth: depth)
        case UInt8(ascii: "["): return try parseArray(path: path, depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("expected a value, found \(describeNext())")
        }
    }

    mutating func literal(_ word: String) throws(JSONParseError) {
        let expected = Array(word.utf8)
        guard bytes.count - position >= expected.count, Array(bytes[position..<(position + expected.count)]) == expected else {
            throw fail("expected a value, found \(describeNext())")
        }
        position += expected.count
    }

    mutating func parseObject(path: String, depth: Int) throws(JSONParseError) -> JSONValue {
        position += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return .object(members, keys: [])
        }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw fail("expected a key in double quotes, found \(describeNext())")
            }
            let keyStart = position
            let key = try parseString()
            guard members[key] == nil else {
                position = keyStart
                throw .duplicateKey(path: path, key: key)
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after the key")
            skipWhitespace()
            members[key] = try parseValue(path: path == "$" ? key : "\(path).\(key)", depth: depth + 1)
            if try closes("}") { break }
        }
        return .object(members, keys: members.keys.sorted())
    }

    mutating func parseArray(path: String, depth: Int) throws(JSONParseError) -> JSONValue {
        position += 1
        var values: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return .array(values)
        }
        while true {
            skipWhitespace()
            values.append(try parseValue(path: "\(path)[\(values.count)]", depth: depth + 1))
            if try closes("]") { break }
        }
        return .array(values)
    }

    /// After a member or element: consumes the closing `close` (true) or a ',' (false), refusing the
    /// end of the file and a trailing comma before `close`.
    mutating func closes(_ close: Unicode.Scalar) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard position < bytes.count else { throw fail("expected ',' or '\(close)', found end of file") }
        if bytes[position] == UInt8(ascii: close) { position += 1; return true }
        try expect(UInt8(ascii: ","), "',' or '\(close)'")
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: close) { throw fail("trailing comma before '\(close)'") }
        return false
    }

    mutating func parseString() throws(JSONParseError) -> String {
        position += 1
        var scalars = String.UnicodeScalarView()
        var run: [UInt8] = []
        func flush() { scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars); run.removeAll() }
        while true {
            guard position < bytes.count else { throw fail("unterminated string") }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") { position += 1; break }
            if byte < 0x20 { throw fail("control character in a string (escape it)") }
            if byte != UInt8(ascii: "\\") { run.append(byte); position += 1; continue }
            flush()
            position += 1
            guard position < bytes.count else { throw fail("unterminated string") }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                    else { throw fail("unpaired surrogate in \\u escape") }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw fail("unpaired surrogate in \\u escape") }
                scalars.append(scalar)
            default:
                position -= 1
                throw fail("invalid escape \\\(describeNext())")
            }
        }
        flush()
        return String(scalars)
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - position >= 4 else { throw fail("expected 4 hex digits after \\u") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(UnicodeScalar(bytes[position])).hexDigitValue else {
                throw fail("expected 4 hex digits after \\u")
            }
            code = code * 16 + UInt32(digit)
            position += 1
        }
        return code
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = position
        func digits() -> Int {
            let from = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - from
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        guard digits() > 0 else { throw fail("expected digits in a number") }
        if bytes[integerStart] == UInt8(ascii: "0"), position - integerStart > 1 {
            position = integerStart
            throw fail("leading zero in a number")
        }
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard digits() > 0 else { throw fail("expected digits after the decimal point") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard digits() > 0 else { throw fail("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else {
            position = start
            throw fail("number \(text) is out of range")
        }
        return .number(value)
    }
}

extension ParameterValue {
    /// The value as JSON text, keys in sorted order, numbers in Swift's shortest round-trip form (a
    /// non-finite number as null): compact, or `pretty` with two spaces a level and arrays of scalars
    /// on one line. What selectjob records (`params_json`, `notes_json`) and generates (the schema).
    public func json(pretty: Bool = false, indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .null: return "null"
        case let .bool(flag): return flag ? "true" : "false"
        case let .integer(i): return String(i)
        case let .number(x): return x.isFinite ? "\(x)" : "null"
        case let .string(text): return Self.quoted(text)
        case let .array(items):
            guard pretty, !items.isEmpty, !items.allSatisfy(\.isScalar) else {
                return "[" + items.map { $0.json(pretty: pretty) }.joined(separator: pretty ? ", " : ",") + "]"
            }
            return "[\n" + items.map { inner + $0.json(pretty: true, indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case let .object(members, keys):
            guard pretty, !keys.isEmpty else {
                return "{" + keys.map { Self.quoted($0) + ":" + members[$0]!.json() }.joined(separator: ",") + "}"
            }
            return "{\n" + keys.map { inner + Self.quoted($0) + ": " + members[$0]!.json(pretty: true, indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    /// `text` as a JSON string literal (quotes, backslashes and control characters escaped).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Whether the value is a number, string, boolean or null.
    fileprivate var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }
}
