/// A standard five-field cron schedule ("minute hour day-of-month month day-of-week"), validated.
///
/// Each field is `*` or a comma-separated list of values or `a-b` ranges, each optionally with a
/// `/step`; months also take JAN–DEC and days of the week SUN–SAT (0 and 7 are both Sunday), as
/// crontab(5) describes. Macros such as `@daily` are not accepted.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written.
    public let description: String

    static let fields: [(name: String, range: ClosedRange<Int>, names: [String])] = [
        ("minute", 0...59, []),
        ("hour", 0...23, []),
        ("day of month", 1...31, []),
        ("month", 1...12, ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
        ("day of week", 0...7, ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]),
    ]

    /// Parses `text`; the error says which field is wrong and why.
    public init(_ text: String) throws(CronScheduleError) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 5 else { throw .fieldCount(parts.count) }
        for (part, field) in zip(parts, Self.fields) {
            for item in part.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
                try Self.check(item, field: field)
            }
        }
        description = parts.joined(separator: " ")
    }

    private static func check(_ item: String, field: (name: String, range: ClosedRange<Int>, names: [String]))
        throws(CronScheduleError) {
        let pieces = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(pieces.count), !pieces[0].isEmpty else { throw .badField(field.name, item) }
        if pieces.count == 2 {
            guard let step = Int(pieces[1]), step >= 1, step <= field.range.upperBound else {
                throw .badField(field.name, item)
            }
        }
        if pieces[0] == "*" { return }
        let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(bounds.count) else { throw .badField(field.name, item) }
        let values = try bounds.map { text throws(CronScheduleError) -> Int in
            if let value = Int(text), field.range.contains(value) { return value }
            if let index = field.names.firstIndex(of: text.uppercased()) {
                return field.range.lowerBound == 0 ? index : index + 1
            }
            throw .badField(field.name, item)
        }
        if values.count == 2, values[0] > values[1] { throw .badField(field.name, item) }
    }
}

/// Why a cron expression was rejected.
public enum CronScheduleError: Error, Equatable, Sendable, CustomStringConvertible {
    case fieldCount(Int)
    case badField(String, String)

    public var description: String {
        switch self {
        case let .fieldCount(count):
            return "expected 5 fields (minute hour day-of-month month day-of-week), got \(count)"
        case let .badField(field, item):
            return "the \(field) field '\(item)' is not a value, range, list or step within its bounds"
        }
    }
}
