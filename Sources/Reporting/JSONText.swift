import Foundation

/// The one JSON writer of selectjob's output: every `--json`, the sidecars and `show --json`.
///
/// JSON has no infinity or NaN; such a number is written as `null`, so an object always keeps its
/// documented fields instead of collapsing to `{}` when `JSONSerialization` refuses it.
public enum JSONText {
    /// `object` (dictionaries, arrays, strings, numbers, booleans) as JSON text, keys sorted, slashes
    /// unescaped; `pretty` indents it. O(size of the object).
    public static func encode(_ object: Any, pretty: Bool = false) -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
        if pretty { options.insert(.prettyPrinted) }
        let data = (try? JSONSerialization.data(withJSONObject: finite(object), options: options)) ?? Data("null".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// `value` with every non-finite number replaced by `NSNull()`.
    static func finite(_ value: Any) -> Any {
        switch value {
        case let object as [String: Any]: return object.mapValues(finite)
        case let array as [Any]: return array.map(finite)
        case let number as Double where !number.isFinite: return NSNull()
        case let number as Float where !number.isFinite: return NSNull()
        default: return value
        }
    }
}
