import Foundation

/// A JSON value as text: numbers and strings alike (providers send int64 as strings).
public func jsonText(_ value: Any?) -> String? {
    switch value {
    case let s as String: s
    case let n as NSNumber: n.stringValue
    default: nil
    }
}

/// A JSON object of strings, keys in byte order, written by hand: JSONSerialization sorts its
/// keys with ICU collation, which cost the click writer's thread more than the rest of a batch.
public enum JSONStringObject {
    public static func encode(_ values: [String: String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(values.count * 24 + 2)
        for (n, key) in values.keys.sorted().enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            append(key, to: &out)
            out.append(UInt8(ascii: ":"))
            append(values[key]!, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\u00XX` (RFC 8259 §7).
    static func append(_ s: String, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), b]
            case 0..<0x20: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
