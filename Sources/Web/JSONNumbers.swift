/// JSON number literals that would not arrive as the number that was sent. `JSONSerialization`
/// turns every number into a Double: `1e-400` becomes 0, `1e309` infinity, 17 digits lose the
/// last ones and `-0` is a negative zero. Amounts and ids are refused in those forms (money is a
/// decimal string in this API), rather than stored as something else.
public enum JSONNumbers {
    /// Significant digits a Double carries exactly.
    public static let maxDigits = 15

    /// The first such literal in a JSON text (outside strings), or nil.
    public static func firstLossy(in bytes: [UInt8]) -> String? {
        let n = bytes.count
        var i = 0
        while i < n {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                while i < n, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                i += 1
                continue
            }
            guard c == UInt8(ascii: "-") || (c >= 48 && c <= 57) else {
                i += 1
                continue
            }
            let start = i
            var significant = 0
            var leading = true
            var exponent = false
            var nonZero = false
            while i < n {
                let b = bytes[i]
                if b >= 48 && b <= 57 {
                    if b != 48 {
                        leading = false
                        nonZero = true
                    }
                    if !leading && !exponent { significant += 1 }
                } else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                    exponent = true
                } else if b != UInt8(ascii: ".") && b != UInt8(ascii: "-") && b != UInt8(ascii: "+") {
                    break
                }
                i += 1
            }
            if exponent || significant > maxDigits || (c == UInt8(ascii: "-") && !nonZero && i > start + 1) {
                return String(decoding: bytes[start..<min(i, start + 40)], as: UTF8.self)
            }
        }
        return nil
    }

    static func check(_ body: [UInt8]) throws(HTTPError) {
        if let key = JSONDuplicateKeys.first(in: body) {
            throw HTTPError(400, code: "invalid_json", message: "the key \"\(key)\" is given twice in one object")
        }
        if let literal = firstLossy(in: body) {
            throw HTTPError(
                400, code: "invalid_json",
                message:
                    "the number \(literal) has an exponent, more than \(maxDigits) digits or is a negative zero: "
                    + "send amounts as decimal strings (\"12.34\")"
            )
        }
    }
}

/// A key given twice in one JSON object: parsers disagree on which one wins (the first, the
/// last), so a body that means two things to two readers is refused instead.
public enum JSONDuplicateKeys {
    /// The first repeated key (its raw text, escapes as sent), or nil. Work is linear in the body.
    public static func first(in bytes: [UInt8]) -> String? {
        var stack: [Set<ArraySlice<UInt8>>?] = []  // nil for an array level
        let n = bytes.count
        var i = 0
        while i < n {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"): stack.append([])
            case UInt8(ascii: "["): stack.append(nil)
            case UInt8(ascii: "}"), UInt8(ascii: "]"): if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: "\""):
                let start = i + 1
                i += 1
                while i < n, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                let end = min(i, n)
                var j = i + 1
                while j < n, bytes[j] == 0x20 || bytes[j] == 0x09 || bytes[j] == 0x0A || bytes[j] == 0x0D { j += 1 }
                // A string followed by `:` directly inside an object is one of its keys.
                if j < n, bytes[j] == UInt8(ascii: ":"), !stack.isEmpty {
                    let key = bytes[start..<end]
                    // In place (no copy of the set per key).
                    if stack[stack.count - 1]?.insert(key).inserted == false { return String(decoding: key.prefix(64), as: UTF8.self) }
                }
            default: break
            }
            i += 1
        }
        return nil
    }
}
