import Foundation

/// CSV out (RFC 4180): a field with a comma, quote or line break is quoted, quotes doubled; rows
/// end in CRLF. Text a visitor controls (user agents, referrers, parameters) is guarded against
/// spreadsheet formulas: a cell starting with `=`, `+`, `-`, `@`, a tab or a CR gets a leading `'`.
public enum CSVText {
    public static func row(_ fields: [String?]) -> String {
        fields.map { field($0 ?? "") }.joined(separator: ",") + "\r\n"
    }

    /// A text cell: formula-guarded, then quoted as needed.
    public static func field(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
