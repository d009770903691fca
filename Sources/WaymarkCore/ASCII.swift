/// Byte-level character checks. `Character.isNumber` is true for every script's digits (and
/// for `½`), which no id or amount an API takes may contain.
public enum ASCII {
    public static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// One or more of `0`–`9` and nothing else.
    public static func isDigits(_ s: some StringProtocol) -> Bool { !s.isEmpty && s.utf8.allSatisfy(isDigit) }

    /// `0`–`9`, `A`–`Z` or `a`–`z`.
    public static func isAlphanumeric(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) }

    /// Only the ASCII digits of `s`.
    public static func digits(_ s: some StringProtocol) -> String { String(decoding: s.utf8.filter(isDigit), as: UTF8.self) }
}
