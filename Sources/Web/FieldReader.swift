import Foundation

/// Reads the fields of a JSON object body or a form, telling "absent" from "null" (PATCH
/// needs both) and collecting a message per bad field instead of stopping at the first.
public struct FieldReader {
    public enum Value {
        case absent
        case null
        case present(Any)
    }

    private let object: [String: Any]
    public private(set) var errors: [String: String] = [:]

    public init(_ object: [String: Any]) { self.object = object }

    public func has(_ key: String) -> Bool { object[key] != nil }

    public func value(_ key: String) -> Value {
        guard let v = object[key] else { return .absent }
        return v is NSNull ? .null : .present(v)
    }

    public mutating func fail(_ key: String, _ message: String) {
        if errors[key] == nil { errors[key] = message }
    }

    /// A string field; numbers are not strings here. Absent → nil, null → "".
    public mutating func string(_ key: String) -> String? {
        switch value(key) {
        case .absent: return nil
        case .null: return ""
        case .present(let v):
            if let s = v as? String { return s }
            fail(key, "must be a string")
            return nil
        }
    }

    /// A whole number field (absent → nil; null → `.some(nil)`).
    public mutating func int64(_ key: String) -> Int64?? {
        switch value(key) {
        case .absent: return nil
        case .null: return .some(nil)
        case .present(let v):
            if let n = v as? NSNumber, !isJSONBool(n), n.doubleValue == n.doubleValue.rounded() { return .some(n.int64Value) }
            if let s = v as? String, let n = Int64(s) { return .some(n) }
            fail(key, "must be a whole number")
            return nil
        }
    }

    public mutating func bool(_ key: String) -> Bool? {
        switch value(key) {
        case .absent, .null: return nil
        case .present(let v):
            if let n = v as? NSNumber, isJSONBool(n) { return n.boolValue }
            if let s = v as? String { return ["true", "1", "on", "yes"].contains(s.lowercased()) }
            fail(key, "must be true or false")
            return nil
        }
    }

    /// A decimal amount given as a string or a number, kept as its exact text.
    public mutating func decimal(_ key: String) -> String? {
        switch value(key) {
        case .absent, .null: return nil
        case .present(let v):
            let text: String
            if let s = v as? String {
                text = s.trimmingCharacters(in: .whitespaces)
            } else if let n = v as? NSNumber, !isJSONBool(n) {
                text = n.stringValue
            } else {
                fail(key, "must be a decimal number")
                return nil
            }
            guard Decimals.isPlain(text) else {
                fail(key, "must be a decimal number like 12.34 (with . as separator)")
                return nil
            }
            return text
        }
    }

    public func object(_ key: String) -> [String: Any]? { object[key] as? [String: Any] }
    public func array(_ key: String) -> [Any]? { object[key] as? [Any] }
}

/// JSON `true`/`false` arrive as NSNumbers of type `c`; 1 and 0 must not pass as booleans.
public func isJSONBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

/// Plain decimal text: digits with an optional `.` fraction and sign, nothing else.
public enum Decimals {
    public static func isPlain(_ text: String, allowNegative: Bool = false) -> Bool {
        var s = Substring(text)
        if s.hasPrefix("-") {
            guard allowNegative else { return false }
            s = s.dropFirst()
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 12 else { return false }
        guard parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return false }
        return parts.count == 1 || (!parts[1].isEmpty && parts[1].count <= 6)
    }
}
