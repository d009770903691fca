import Foundation
import Postgres
import Web

/// The postback ledger (`postbacks`): every postback as received, with its outcome. Its
/// only writer (`PostbackStore+Retention` deletes the old ones no workspace owns).
public struct PostbackStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    static let columns = """
        id, received_at, channel, method, query, body, source_ip, click_id, event_key, txid, status, payout::text AS payout, currency,
        outcome, error, conversion_id
        """

    static func decode(_ r: PostgresRow) throws -> StoredPostback {
        StoredPostback(
            id: try r.decode("id"), receivedAt: try r.decode("received_at"), channel: r["channel"] ?? "", method: r["method"] ?? "",
            query: r["query"] ?? "", body: r["body"] ?? "", sourceIP: r["source_ip"] ?? "", clickID: r["click_id"] ?? "",
            event: r["event_key"] ?? "", txid: r["txid"] ?? "", status: r["status"] ?? "", payout: r["payout"] ?? "",
            currency: r["currency"] ?? "", outcome: r["outcome"] ?? "", error: r["error"] ?? "", conversionID: r["conversion_id"] ?? "")
    }

    /// The newest postbacks that named no known click.
    public func unattributed(limit: Int = 500) throws -> [StoredPostback] {
        try database.query(
            """
            SELECT \(unescaped: PostbackStore.columns)
            FROM postbacks WHERE outcome = 'unattributed' ORDER BY received_at DESC, id DESC LIMIT \(limit)
            """
        ).map(PostbackStore.decode)
    }

    /// A click's postbacks, oldest first.
    public func forClick(_ clickID: String) throws -> [StoredPostback] {
        try database.query(
            "SELECT \(unescaped: PostbackStore.columns) FROM postbacks WHERE click_id = \(clickID) ORDER BY received_at, id"
        ).map(PostbackStore.decode)
    }

    /// The postback writers' sessions run the same few statements thousands of times: a
    /// generic plan each (pruned to the click's partition at run time), never re-planned.
    static func prepareWriterSession(_ c: PostgresConnection) throws {
        try c.query("SET plan_cache_mode = force_generic_plan")
    }

    /// A postback refused before recording (bad input), on its own.
    func insertInvalid(_ raw: ConversionRecorder.Raw, clickID: String?, error: String) throws {
        try database.query(
            """
            INSERT INTO postbacks (channel, method, query, body, content_type, source_ip, click_id, outcome, error)
            VALUES (\(raw.channel), \(raw.method), \(raw.query), \(raw.body), \(raw.contentType), \(raw.sourceIP), \(clickID),
                    'invalid', \(error))
            """)
    }

    /// A postback with its outcome, in the recording transaction.
    func insert(
        on c: PostgresConnection, _ raw: ConversionRecorder.Raw, _ input: PostbackInput, outcome: ConversionRecorder.Outcome,
        workspaceID: Int64?, conversionID: Int64?, error: String?
    ) throws -> Int64 {
        try c.query(
            """
            INSERT INTO postbacks (received_at, channel, method, query, body, content_type, source_ip, click_id, workspace_id, event_key,
                                   txid, status, payout, currency, outcome, error, conversion_id)
            VALUES (coalesce(\(input.receivedAt)::timestamptz, now()), \(raw.channel), \(raw.method), \(raw.query), \(raw.body),
                    \(raw.contentType), \(raw.sourceIP),
                    \(input.clickID.isEmpty ? nil : input.clickID), \(workspaceID), \(input.event), \(input.txid), \(input.status.rawValue),
                    \(input.payout)::numeric, \(input.currency), \(outcome.rawValue), \(error), \(conversionID))
            RETURNING id
            """, prepared: true)[0].decode("id")
    }

    /// The stored fields of an unattributed postback as postback pairs (`event_key` as
    /// `event`), locked for attaching; nil when there is no such postback.
    func unattributedPairs(on c: PostgresConnection, id: Int64) throws -> [(String, String)]? {
        guard
            let row = try c.query(
                """
                SELECT event_key, txid, status, payout::text AS payout, currency FROM postbacks
                WHERE id = \(id) AND outcome = 'unattributed' FOR UPDATE
                """
            ).first
        else { return nil }
        return ["event_key", "txid", "status", "payout", "currency"].compactMap { name in
            row[name].map { (name == "event_key" ? "event" : name, $0) }
        }
    }

    /// An unattributed postback, now recorded for the click.
    func markAttached(on c: PostgresConnection, id: Int64, click: ClickForConversion, conversionID: Int64) throws {
        try c.query(
            """
            UPDATE postbacks
            SET outcome = 'attached', click_id = \(click.id), workspace_id = \(click.workspaceID), conversion_id = \(conversionID)
            WHERE id = \(id)
            """)
    }
}
