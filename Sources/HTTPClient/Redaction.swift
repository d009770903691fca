import Foundation

/// Keeps tokens, secrets and `Authorization` values out of any text that is stored, logged or
/// shown (errors of outbound calls above all). The one place that does it.
public enum Redaction {
    static let placeholder = "[redacted]"
    /// Query and form names whose values are credentials.
    static let secretNames = [
        "access_token", "refresh_token", "token", "secret", "api_secret", "client_secret", "key", "api_key",
        "password", "code_verifier", "app_secret", "appsecret_proof",
    ]

    /// `text` with every one of `secrets` (those of 4 or more characters) replaced, the values
    /// of credential-named parameters replaced, and `Bearer …` / `Authorization: …` values cut.
    public static func scrub(_ text: String, secrets: [String] = []) -> String {
        var out = text
        for secret in secrets where secret.utf8.count >= 4 {
            out = out.replacingOccurrences(of: secret, with: placeholder)
        }
        out = maskParameters(out)
        out = maskAfter(out, marker: "authorization: ", wholeLine: true)
        out = maskAfter(out, marker: "bearer ")
        return out
    }

    /// A URL without its query (where tokens and secrets may travel), for messages and logs.
    public static func withoutQuery(_ url: String) -> String { String(url.prefix { $0 != "?" && $0 != "#" }) }

    /// `name=value` for the credential names: the value up to `&`, a quote, a space or the end.
    static func maskParameters(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let lower = Array(text.lowercased().utf8)
        guard lower.count == bytes.count else { return text }  // lower-casing changed lengths: keep it simple
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var i = 0
        outer: while i < bytes.count {
            for name in secretNames {
                let n = Array(name.utf8)
                let boundary = i == 0 || !isNameByte(lower[i - 1])
                if boundary, i + n.count < bytes.count, Array(lower[i..<(i + n.count)]) == n,
                    bytes[i + n.count] == UInt8(ascii: "=")
                        || (bytes[i + n.count] == UInt8(ascii: "\"") && i + n.count + 2 < bytes.count
                            && bytes[i + n.count + 1] == UInt8(ascii: ":"))
                {
                    var j = i + n.count + 1
                    if bytes[i + n.count] == UInt8(ascii: "\"") { j += 1 }
                    result += bytes[i..<j]
                    while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\"") {
                        result.append(bytes[j])
                        j += 1
                    }
                    var end = j
                    while end < bytes.count, !terminators.contains(bytes[end]) { end += 1 }
                    if end > j { result += Array(placeholder.utf8) }
                    i = end
                    continue outer
                }
            }
            result.append(bytes[i])
            i += 1
        }
        return String(decoding: result, as: UTF8.self)
    }

    static let terminators: Set<UInt8> = Set("&\"' ,;}\r\n\t".utf8)

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
    }

    /// What follows `marker` (case-insensitive) replaced: up to a terminator, or with
    /// `wholeLine` up to the end of the line or a quote (an `Authorization` value has spaces).
    static func maskAfter(_ text: String, marker: String, wholeLine: Bool = false) -> String {
        let bytes = Array(text.utf8)
        let lower = Array(text.lowercased().utf8)
        guard lower.count == bytes.count else { return text }
        let m = Array(marker.utf8)
        let stops: Set<UInt8> = wholeLine ? Set("\"\r\n".utf8) : terminators
        var result: [UInt8] = []
        var i = 0
        while i < bytes.count {
            guard i + m.count <= bytes.count, lower[i..<(i + m.count)].elementsEqual(m) else {
                result.append(bytes[i])
                i += 1
                continue
            }
            result += bytes[i..<(i + m.count)]
            var end = i + m.count
            while end < bytes.count, !stops.contains(bytes[end]) { end += 1 }
            if end > i + m.count { result += Array(placeholder.utf8) }
            i = end
        }
        return String(decoding: result, as: UTF8.self)
    }
}
