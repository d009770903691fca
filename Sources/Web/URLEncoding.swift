/// Percent-encoding as used by URLs and `application/x-www-form-urlencoded` bodies.
public enum URLEncoding {
    /// Decodes `%XX` escapes (and `+` as space when `plusAsSpace`); invalid escapes stay as they are.
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool = true) -> String {
        var copy = String(text)
        return copy.withUTF8 { decode(bytes: $0[...], plusAsSpace: plusAsSpace) }
    }

    static func decode(bytes: Slice<UnsafeBufferPointer<UInt8>>, plusAsSpace: Bool) -> String {
        guard bytes.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        // Decoding only shrinks; invalid UTF-8 in the result is repaired by String.
        return String(unsafeUninitializedCapacity: bytes.count) { out in
            var n = 0
            var i = bytes.startIndex
            while i < bytes.endIndex {
                let c = bytes[i]
                if c == UInt8(ascii: "%"), i + 2 < bytes.endIndex, let h = hexValue(bytes[i + 1]), let l = hexValue(bytes[i + 2]) {
                    out[n] = h << 4 | l
                    i += 3
                } else {
                    out[n] = plusAsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c
                    i += 1
                }
                n += 1
            }
            return n
        }
    }

    /// Encodes everything but RFC 3986 unreserved characters (`A–Z a–z 0–9 - . _ ~`), so the
    /// result is safe as a query value or a path segment.
    public static func encode(_ text: some StringProtocol) -> String {
        // Most values (ids, names from ad platforms) need no escape: no allocation but the copy.
        guard text.utf8.contains(where: { !isUnreserved($0) }) else { return String(text) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3)
        for c in text.utf8 {
            if isUnreserved(c) {
                bytes.append(c)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hexDigit(c >> 4))
                bytes.append(hexDigit(c & 15))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 48 + nibble : 55 + nibble }

    /// Parses `a=1&b=2&a=3` into ordered pairs (names and values decoded).
    public static func parseForm(_ text: some StringProtocol) -> [(String, String)] {
        var pairs: [(String, String)] = []
        var copy = String(text)
        copy.withUTF8 { all in
            var start = 0
            while start < all.count {
                var end = start
                var eq = -1
                while end < all.count, all[end] != UInt8(ascii: "&") {
                    if eq < 0, all[end] == UInt8(ascii: "=") { eq = end }
                    end += 1
                }
                if end > start {
                    if eq >= 0 {
                        pairs.append(
                            (decode(bytes: all[start..<eq], plusAsSpace: true), decode(bytes: all[(eq + 1)..<end], plusAsSpace: true)))
                    } else {
                        pairs.append((decode(bytes: all[start..<end], plusAsSpace: true), ""))
                    }
                }
                start = end + 1
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
