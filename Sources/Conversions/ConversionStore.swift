import Foundation
import Postgres
import WaymarkCore

/// The `conversions` table: the lists of the pages and the API, and (in the recording
/// transaction) the upsert on a click's de-duplication key. Its only writer.
public struct ConversionStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    static let select = """
        SELECT v.id, v.click_id, v.campaign_id, c.name AS campaign_name, v.traffic_source_id, s.name AS source_name, v.event_key, v.txid,
               v.status, v.payout::text AS payout, v.currency, v.converted_at, v.updated_at, v.clicked_at
        FROM conversions v JOIN campaigns c ON c.id = v.campaign_id JOIN traffic_sources s ON s.id = v.traffic_source_id
        """

    static func decode(_ r: PostgresRow) throws -> ConversionRow {
        ConversionRow(
            id: try r.decode("id"), clickID: try r.decode("click_id"), campaignID: try r.decode("campaign_id"),
            campaignName: r["campaign_name"] ?? "", sourceID: try r.decode("traffic_source_id"), sourceName: r["source_name"] ?? "",
            event: try r.decode("event_key"), txid: try r.decode("txid", as: String?.self), status: try r.decode("status"),
            payout: Money.trim(try r.decode("payout")), currency: try r.decode("currency"), convertedAt: try r.decode("converted_at"),
            updatedAt: try r.decode("updated_at"), clickedAt: try r.decode("clicked_at"))
    }

    /// Newest first for pages (`after` nil); by id after the cursor for the API (its first page
    /// too: `after` 0), so that following `next_cursor` lists every row once.
    public func list(filter: ConversionFilter, for actor: Actor, after: Int64?, limit: Int) throws -> [ConversionRow] {
        try database.query(
            """
            \(unescaped: ConversionStore.select)
            WHERE \(fragment: actor.visibleWorkspaces("v.workspace_id"))
              AND v.converted_at >= \(filter.from)::date AND v.converted_at < \(filter.to)::date + 1
              AND (\(filter.campaignID)::bigint IS NULL OR v.campaign_id = \(filter.campaignID))
              AND (\(filter.sourceID)::bigint IS NULL OR v.traffic_source_id = \(filter.sourceID))
              AND (\(filter.status)::text IS NULL OR v.status = \(filter.status))
              AND (\(filter.event)::text IS NULL OR v.event_key = \(filter.event))
              AND v.id > \(after ?? 0)
            ORDER BY \(unescaped: after != nil ? "v.id" : "v.converted_at DESC, v.id DESC") LIMIT \(limit)
            """
        ).map(ConversionStore.decode)
    }

    /// A click's conversions, oldest first.
    public func forClick(_ clickID: String) throws -> [ConversionRow] {
        try database.query("\(unescaped: ConversionStore.select) WHERE v.click_id = \(clickID) ORDER BY v.id").map(ConversionStore.decode)
    }

    /// The stored conversion of a de-duplication key, locked for the recording transaction.
    struct Existing: Sendable {
        var id: Int64
        var status: String
        var samePayout: Bool
        var currency: String
        var event: String
    }

    /// A conversion's de-duplication key: unique per click.
    struct Key: Hashable, Sendable {
        var clickID: String
        var dedupeKey: String
    }

    /// A conversion to insert, its payout and currency settled.
    struct New: Sendable {
        var click: ClickForConversion
        var input: PostbackInput
        var currency: String

        var key: Key { Key(clickID: click.id, dedupeKey: input.dedupeKey) }
    }

    /// New conversions for the keys that have none yet, in one statement (so the roll-up trigger
    /// runs once per batch); the new ids by key. A key stored already (perhaps concurrently: the
    /// insert waits for the other transaction's commit) is absent. Rows go in their given order,
    /// so ids follow it.
    func insert(on c: PostgresConnection, _ rows: [New]) throws -> [Key: Int64] {
        guard !rows.isEmpty else { return [:] }
        var columns = [[String?]](repeating: [], count: 16)
        for r in rows {
            let values: [String?] = [
                r.click.workspaceID.map { String($0) }, r.click.id, r.click.clickedAt.postgresText, String(r.click.campaignID),
                String(r.click.trafficSourceID), r.input.event, r.input.txid, r.input.dedupeKey, r.input.status.rawValue, r.input.payout,
                r.currency, r.click.flowID.map { String($0) }, r.click.flowPath.map { String($0) }, r.click.landerID.map { String($0) },
                r.click.offerID.map { String($0) }, r.input.receivedAt?.postgresText,
            ]
            for (i, value) in values.enumerated() { columns[i].append(value) }
        }
        let query = PostgresQuery(unescaped: ConversionStore.insertSQL, binds: columns.map { PostgresArrayLiteral.encode($0) })
        var ids: [Key: Int64] = [:]
        for row in try c.query(query, prepared: true) {
            ids[Key(clickID: try row.decode("click_id"), dedupeKey: try row.decode("dedupe_key"))] = try row.decode("id")
        }
        return ids
    }

    static let insertSQL = """
        INSERT INTO conversions (workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, txid, dedupe_key,
                                 status, payout, currency, flow_id, flow_path, lander_id, offer_id, converted_at)
        SELECT workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, txid, dedupe_key, status, payout, currency,
               flow_id, flow_path, lander_id, offer_id, coalesce(received_at, now())
        FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[],
                    $9::text[], $10::numeric[], $11::text[], $12::bigint[], $13::smallint[], $14::bigint[], $15::bigint[],
                    $16::timestamptz[])
             WITH ORDINALITY AS u(workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, txid, dedupe_key,
                                  status, payout, currency, flow_id, flow_path, lander_id, offer_id, received_at, n)
        ORDER BY n
        ON CONFLICT (click_id, dedupe_key) DO NOTHING
        RETURNING id, click_id, dedupe_key
        """

    func existing(on c: PostgresConnection, clickID: String, input: PostbackInput) throws -> Existing {
        let row = try c.query(
            """
            SELECT id, status, payout = \(input.payout)::numeric AS same_payout, currency, event_key
            FROM conversions WHERE click_id = \(clickID) AND dedupe_key = \(input.dedupeKey) FOR UPDATE
            """)[0]
        return Existing(
            id: try row.decode("id"), status: try row.decode("status"), samePayout: try row.decode("same_payout"),
            currency: try row.decode("currency"), event: try row.decode("event_key"))
    }

    func update(on c: PostgresConnection, id: Int64, input: PostbackInput, currency: String) throws {
        try c.query(
            """
            UPDATE conversions SET status = \(input.status.rawValue), payout = \(input.payout)::numeric, currency = \(currency),
              event_key = \(input.event), updated_at = now()
            WHERE id = \(id)
            """)
    }

    /// Whether the conversion is its click's first (send-back rules can ask for first only).
    public func isFirstOfClick(on c: PostgresConnection, clickID: String, conversionID: Int64) throws -> Bool {
        try c.query(
            """
            SELECT NOT EXISTS (SELECT 1 FROM conversions WHERE click_id = \(clickID) AND id < \(conversionID)) AS first
            """, prepared: true)[0].decode("first", as: Bool.self)
    }
}
