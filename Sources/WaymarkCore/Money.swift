import Foundation

/// Money as PostgreSQL numeric text without trailing zeros past two decimals (`12.500000` → `12.50`).
public enum Money {
    public static func trim(_ text: String) -> String {
        guard let dot = text.firstIndex(of: ".") else { return text }
        var s = text
        while s.last == "0", s.distance(from: dot, to: s.endIndex) > 3 { s.removeLast() }
        return s
    }
}
