import Foundation

/// ISO 4217 currency codes (from the platform's locale data).
public enum Currency {
    public static let codes: [String] = Locale.commonISOCurrencyCodes.sorted()
    private static let set = Set(codes)
    public static func isKnown(_ code: String) -> Bool { set.contains(code) }
}
