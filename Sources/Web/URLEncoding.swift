/// Percent-encoding as used by URLs and `application/x-www-form-urlencoded` bodies.
public enum URLEncoding {
    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`); invalid escapes stay as they are.
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool = true) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(text)
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        var i = 0
        while i < utf8.count {
            let c = utf8[i]
            if c == UInt8(ascii: "%"), i + 2 < utf8.count, let h = hexValue(utf8[i + 1]), let l = hexValue(utf8[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else if plusAsSpace && c == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
                i += 1
            } else {
                out.append(c)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes everything but RFC 3986 unreserved characters (`A–Z a–z 0–9 - . _ ~`), so the
    /// result is safe as a query value or a path segment.
    public static func encode(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        var needs = false
        for c in text.utf8 where !isUnreserved(c) {
            needs = true
            break
        }
        guard needs else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3)
        for c in text.utf8 {
            if isUnreserved(c) {
                bytes.append(c)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(c >> 4)])
                bytes.append(hex[Int(c & 15)])
            }
        }
        out = String(decoding: bytes, as: UTF8.self)
        return out
    }

    /// Parses `a=1&b=2&a=3` into ordered pairs (names and values decoded).
    public static func parseForm(_ text: some StringProtocol) -> [(String, String)] {
        var pairs: [(String, String)] = []
        for part in text.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                pairs.append((decode(part[..<eq]), decode(part[part.index(after: eq)...])))
            } else {
                pairs.append((decode(part), ""))
            }
        }
        return pairs
    }

    /// Builds `a=1&b=2` from pairs, encoding names and values.
    public static func formString(_ pairs: [(String, String)]) -> String {
        pairs.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
    }

    static func isUnreserved(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
            || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_") || c == UInt8(ascii: "~")
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
