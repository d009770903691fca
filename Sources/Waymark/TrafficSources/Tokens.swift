/// The `{name}` tokens of destination and postback URLs (SPEC §3).
public enum Tokens {
    /// Tokens every destination URL may use, besides the source's parameter names.
    public static let destination = ["clickid", "campaign_id", "campaign_key", "traffic_source_id", "external_id", "country"]
    /// Tokens every S2S postback URL may use, besides the click's parameter names. `random`
    /// (a cache buster some networks ask for) is Waymark's addition to SPEC §3's list.
    public static let postback = ["external_id", "clickid", "payout", "currency", "event", "status", "txid", "campaign_id", "random"]

    /// The names inside `{…}` in `text`, in order (`{{x}}` platform macros are not tokens).
    public static func names(in text: String) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.firstIndex(of: "{") {
            let after = rest.index(after: open)
            guard after < rest.endIndex, rest[after] != "{", let close = rest[after...].firstIndex(of: "}") else {
                rest = rest[after...]
                continue
            }
            let name = rest[after..<close]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) { names.append(String(name)) }
            rest = rest[rest.index(after: close)...]
        }
        return names
    }

    /// Tokens in `text` that are not in `known`.
    public static func unknown(in text: String, known: Set<String>) -> [String] {
        var seen = Set<String>()
        return names(in: text).filter { !known.contains($0) && seen.insert($0).inserted }
    }

    /// Upper-case account placeholders (`YOUR_AID`, `GOAL_ID`) still in a postback URL.
    public static func placeholders(in url: String, known: [String: String]) -> [String] {
        known.keys.sorted().filter { url.contains($0) }
    }
}

/// URL checks shared by sources and campaigns.
enum URLCheck {
    /// An absolute http(s) URL with a literal host: tokens only after it, never in the host,
    /// port or user info (`https://{sub1}/`, `https://a.example{sub1}/` would send visitors, or
    /// the worker, wherever a click's parameters say), and no control bytes or spaces.
    static func isAbsoluteHTTP(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return false }
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return false }
        let rest = text.utf8.drop(while: { $0 != UInt8(ascii: ":") }).dropFirst(3)
        let authority = Array(rest.prefix { $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") })
        return isAuthority(authority)
    }

    /// `host[:port]`: a DNS name (letters, digits, `-`, `.`), an IPv4 address or `[IPv6]`.
    static func isAuthority(_ a: [UInt8]) -> Bool {
        var host = a[...]
        if host.first == UInt8(ascii: "[") {
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let inside = host[host.index(after: host.startIndex)..<close]
            guard !inside.isEmpty, inside.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else { return false }
            return isPort(host[host.index(after: close)...])
        }
        if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            guard isPort(host[colon...]) else { return false }
            host = host[..<colon]
        }
        return !host.isEmpty && host.count <= 253 && host.first != UInt8(ascii: ".") && host.first != UInt8(ascii: "-")
            && host.allSatisfy { isHex($0) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    /// Empty, or `:` and 1–5 digits.
    static func isPort(_ p: ArraySlice<UInt8>) -> Bool {
        guard let first = p.first else { return true }
        let digits = p.dropFirst()
        return first == UInt8(ascii: ":") && (1...5).contains(digits.count) && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    static func isHex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46) }
}
