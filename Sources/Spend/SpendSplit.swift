import Foundation

/// Splits a total evenly over days to the cent; the remainder goes to the last day, so the
/// days add up to the total exactly.
public enum SpendSplit {
    public static func evenly(_ total: Decimal, over days: [String]) -> [(day: String, amount: String)] {
        guard !days.isEmpty else { return [] }
        var each = total / Decimal(days.count)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &each, 2, .down)
        let last = total - rounded * Decimal(days.count - 1)
        return days.enumerated().map { i, day in (day, "\(i == days.count - 1 ? last : rounded)") }
    }
}
