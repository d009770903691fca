import Foundation

/// Which conversions a source's postback reports (set on the source).
public struct SendBackRules: Sendable, Equatable {
    /// `all`, `approved` (only approved ones) or `first` (the first conversion of a click).
    public var send: String
    /// Event keys to report; empty = every event.
    public var events: [String]
    /// A decline of an already-reported conversion is sent too (status `declined`).
    public var reversals: Bool

    public static let sendOptions = ["all", "approved", "first"]

    public init(send: String, events: [String], reversals: Bool) {
        self.send = send
        self.events = events
        self.reversals = reversals
    }

    public func shouldSend(event: String, status: String, previousStatus: String?, recorded: Bool, firstOfClick: Bool, alreadySent: Bool)
        -> Bool
    {
        if !events.isEmpty && !events.contains(event) { return false }
        switch send {
        case "approved":
            if status == "approved" { return recorded || previousStatus != "approved" }
            return status == "declined" && previousStatus == "approved" && reversals && alreadySent
        case "first":
            guard firstOfClick else { return false }
            if recorded { return true }
            return status == "declined" && reversals && alreadySent
        default:
            if status == "declined" && !recorded && !reversals { return false }
            return true
        }
    }

    /// The reported share of a payout (`percent` of it), as plain decimal text.
    public static func share(_ payout: String, percent: String) -> String {
        guard let p = Decimal(string: percent), p != 100, let amount = Decimal(string: payout) else { return payout }
        var value = amount * p / 100
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 6, .bankers)
        return "\(rounded)"
    }
}
