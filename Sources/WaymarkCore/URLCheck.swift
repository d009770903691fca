/// URL checks shared by sources and campaigns.
public enum URLCheck {
    /// An absolute http(s) URL with a literal host: tokens only after it, never in the host,
    /// port or user info (`https://{sub1}/`, `https://a.example{sub1}/` would send visitors, or
    /// the worker, wherever a click's parameters say), and no control bytes or spaces.
    public static func isAbsoluteHTTP(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return false }
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return false }
        let rest = text.utf8.drop(while: { $0 != UInt8(ascii: ":") }).dropFirst(3)
        let authority = Array(rest.prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") })
        return isAuthority(authority)
    }

    /// `host[:port]`: a DNS name (letters, digits, `-`, `.`), an IPv4 address or `[IPv6]`.
    public static func isAuthority(_ a: [UInt8]) -> Bool {
        var host = a[...]
        if host.first == UInt8(ascii: "[") {
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else {
                return false
            }
            return isPort(host[host.index(after: close)...])
        }
        if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            guard isPort(host[colon...]) else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty && host.count <= 253 && host.first != UInt8(ascii: ".") && host.first != UInt8(ascii: "-")
            && host.allSatisfy {
                isHex($0) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".")
            }
    }

    /// Empty, or `:` and 1–5 digits.
    public static func isPort(_ p: ArraySlice<UInt8>) -> Bool {
        guard let first = p.first else { return true }
        let digits = p.dropFirst()
        return first == UInt8(ascii: ":") && (1...5).contains(digits.count) && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    public static func isHex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46) }
}
