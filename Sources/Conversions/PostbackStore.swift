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

    /// A postback for the ledger, with its outcome.
    struct Entry: Sendable {
        var raw: ConversionRecorder.Raw
        var input: PostbackInput
        var outcome: ConversionRecorder.Outcome
        var workspaceID: Int64?
        var conversionID: Int64?
        var error: String?
    }

    /// A batch's postbacks with their outcomes, in the recording transaction and in one
    /// statement; their ids, in the given order (drawn before the insert, in that order).
    func insert(on c: PostgresConnection, _ entries: [Entry]) throws -> [Int64] {
        guard !entries.isEmpty else { return [] }
        var columns = [[String?]](repeating: [], count: 17)
        for e in entries {
            let values: [String?] = [
                e.input.receivedAt?.postgresText, e.raw.channel, e.raw.method, e.raw.query, e.raw.body, e.raw.contentType, e.raw.sourceIP,
                e.input.clickID.isEmpty ? nil : e.input.clickID, e.workspaceID.map { String($0) }, e.input.event, e.input.txid,
                e.input.status.rawValue, e.input.payout, e.input.currency, e.outcome.rawValue, e.error, e.conversionID.map { String($0) },
            ]
            for (i, value) in values.enumerated() { columns[i].append(value) }
        }
        let query = PostgresQuery(unescaped: PostbackStore.insertSQL, binds: columns.map { PostgresArrayLiteral.encode($0) })
        return try c.query(query, prepared: true).map { try $0.decode("id") }
    }

    // The ids are drawn in a CTE, which PostgreSQL evaluates once (it calls a volatile
    // function), so the inserted rows and the answer share them.
    static let insertSQL = """
        WITH entries AS (
          SELECT nextval('postbacks_id_seq') AS id, u.*
          FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                      $9::bigint[], $10::text[], $11::text[], $12::text[], $13::numeric[], $14::text[], $15::text[], $16::text[],
                      $17::bigint[])
               WITH ORDINALITY AS u(received_at, channel, method, query, body, content_type, source_ip, click_id, workspace_id,
                                    event_key, txid, status, payout, currency, outcome, error, conversion_id, n)
          ORDER BY n
        ), stored AS (
          INSERT INTO postbacks (id, received_at, channel, method, query, body, content_type, source_ip, click_id, workspace_id,
                                 event_key, txid, status, payout, currency, outcome, error, conversion_id)
          SELECT id, coalesce(received_at, now()), channel, method, query, body, content_type, source_ip, click_id, workspace_id,
                 event_key, txid, status, payout, currency, outcome, error, conversion_id
          FROM entries
        )
        SELECT id FROM entries ORDER BY n
        """

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
