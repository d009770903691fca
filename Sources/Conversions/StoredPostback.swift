import Foundation

/// A postback as the ledger keeps it (the journey and unattributed pages show it).
public struct StoredPostback: Sendable {
    public var id: Int64
    public var receivedAt: Date
    public var channel: String
    public var method: String
    public var query: String
    public var body: String
    public var sourceIP: String
    public var clickID: String
    public var event: String
    public var txid: String
    public var status: String
    public var payout: String
    public var currency: String
    public var outcome: String
    public var error: String
    /// Empty when the postback made no conversion.
    public var conversionID: String

    /// The query and body as received, joined for one table cell.
    public var raw: String { [query, body].filter { !$0.isEmpty }.joined(separator: " · ") }
}
