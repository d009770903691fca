/// The `{name}` tokens of destination and postback URLs (docs/tracking.md).
public enum Tokens {
    /// Tokens every destination URL may use, besides the source's parameter names.
    public static let destination = ["clickid", "campaign_id", "campaign_key", "traffic_source_id", "external_id", "country"]
    /// Tokens every S2S postback URL may use, besides the click's parameter names. `random`
    /// (a cache buster some networks ask for) is Waymark's addition to docs/tracking.md's list.
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
