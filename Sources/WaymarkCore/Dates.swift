import Foundation
import Glibc
import Web

/// Calendar days as `YYYY-MM-DD` (UTC).
public enum Dates {
    /// `from` and `to` of a list's query: valid dates, by default the last `defaultDays` days.
    public static func period(_ request: Request, defaultDays: Int) throws(HTTPError) -> (from: String, to: String) {
        func day(_ name: String, _ fallback: Date) throws(HTTPError) -> String {
            let text = request.queryValue(name) ?? ""
            if text.isEmpty { return Dates.day(fallback) }
            guard parseDay(text) != nil else { throw HTTPError.badRequest("\(name) must be a date YYYY-MM-DD", field: name) }
            return text
        }
        return (try day("from", Date().addingTimeInterval(Double(-(defaultDays - 1)) * 86400)), try day("to", Date()))
    }

    public static func day(_ date: Date) -> String {
        String(RFC3339.string(from: date).prefix(10))
    }

    /// Midnight UTC of a valid `YYYY-MM-DD` (checked by hand: this runs per imported row).
    public static func parseDay(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard (48...57).contains(b[i]) else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10), y >= 1900, (1...12).contains(m), d >= 1 else {
            return nil
        }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= lengths[m - 1] else { return nil }
        var parts = tm()
        parts.tm_year = Int32(y - 1900)
        parts.tm_mon = Int32(m - 1)
        parts.tm_mday = Int32(d)
        return Date(timeIntervalSince1970: Double(timegm(&parts)))
    }
}
