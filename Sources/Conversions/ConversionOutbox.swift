import Postgres

/// Where a recorded or updated conversion's deliveries are queued, in its own transaction.
/// Conversions owns the contract; Deliveries' Outbox fulfils it.
public protocol ConversionOutbox: Sendable {
    func enqueue(
        on c: PostgresConnection, conversionID: Int64, click: ClickForConversion, input: PostbackInput, currency: String,
        previousStatus: String?) throws
}
