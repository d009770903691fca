import Catalog
import Foundation
import Postgres
import Threads
import WaymarkCore
import Web

/// Stored clicks as conversions read them (Tracking's ClickWriter writes them): found by id
/// within the second the id names, so a lookup touches one day's partition.
public struct ClickStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// One click the actor may see, or 404.
    public func get(_ id: String, for actor: Actor) throws -> ClickRow {
        guard let second = ClickID.time(of: id) else { throw HTTPError.notFound("no click \(id)") }
        guard
            let r = try database.query(
                """
                SELECT k.id, k.clicked_at, k.campaign_id, c.name AS campaign_name, k.traffic_source_id, s.name AS source_name,
                       k.workspace_id, k.ip, k.user_agent, k.referrer, k.external_id, k.cost::text AS cost, k.is_bot, k.is_unique,
                       k.country, k.device, k.os, k.browser, k.destination, k.extra::text AS extra,
                       s.parameters::text AS source_parameters, \(unescaped: ClickStore.slotColumns)
                FROM clicks k JOIN campaigns c ON c.id = k.campaign_id JOIN traffic_sources s ON s.id = k.traffic_source_id
                WHERE k.id = \(id) AND k.clicked_at >= \(second) AND k.clicked_at < \(second.addingTimeInterval(1))
                """
            ).first
        else { throw HTTPError.notFound("no click \(id)") }
        let workspaceID = try r.decode("workspace_id", as: Int64?.self)
        try actor.requireVisible(workspace: workspaceID)
        return ClickRow(
            id: try r.decode("id"), clickedAt: try r.decode("clicked_at"), campaignID: try r.decode("campaign_id"),
            campaignName: r["campaign_name"] ?? "", sourceID: try r.decode("traffic_source_id"), sourceName: r["source_name"] ?? "",
            workspaceID: workspaceID, ip: try r.decode("ip"), userAgent: try r.decode("user_agent"), referrer: try r.decode("referrer"),
            externalID: try r.decode("external_id", as: String?.self), cost: Money.trim(try r.decode("cost")),
            isBot: try r.decode("is_bot"), isUnique: try r.decode("is_unique"), country: try r.decode("country"),
            device: try r.decode("device"), os: try r.decode("os"), browser: try r.decode("browser"),
            destination: try r.decode("destination"), parameters: ClickStore.parameters(r))
    }

    /// The clicks a batch of postbacks names, by id (an id with no click, or no second, is
    /// absent), in the recording transaction: one statement for the batch. Each id is looked up
    /// by the single-click query, laterally and kept apart by its LIMIT (pulled up into the
    /// outer query, its joins were planned for ten ids, as hash joins over whole tables). The
    /// batch's first and last second prune the day partitions at executor start (the generic
    /// plan of this prepared statement would open every one), each id's own second at run time.
    public func forConversions(_ ids: [String], on c: PostgresConnection) throws -> [String: ClickForConversion] {
        var seconds: [String: Date] = [:]
        for id in ids where seconds[id] == nil {
            if let second = ClickID.time(of: id) { seconds[id] = second }
        }
        guard let first = seconds.values.min(), let last = seconds.values.max()?.addingTimeInterval(1) else { return [:] }
        let keys = Array(seconds.keys)
        let binds = [
            PostgresArrayLiteral.encode(keys), PostgresArrayLiteral.encode(keys.map { seconds[$0]!.postgresText }), first.postgresText,
            last.postgresText,
        ]
        var clicks: [String: ClickForConversion] = [:]
        for row in try c.query(PostgresQuery(unescaped: ClickStore.forConversionsSQL, binds: binds), prepared: true) {
            let click = try ClickStore.forConversion(row)
            clicks[click.id] = click
        }
        return clicks
    }

    static let forConversionsSQL = """
        SELECT k.*
        FROM unnest($1::text[], $2::timestamptz[]) AS u(id, second)
        CROSS JOIN LATERAL (
          SELECT k.id, k.clicked_at, k.campaign_id, k.traffic_source_id, k.workspace_id, k.external_id, k.extra::text AS extra,
                 k.ip, k.user_agent, k.destination, k.flow_id, k.flow_path, k.lander_id, o.id AS offer_id,
                 o.payout::text AS offer_payout, o.currency AS offer_currency,
                 \(ClickStore.slotColumns), c.currency, w.postback_secret, s.parameters::text AS source_parameters
          FROM (SELECT * FROM clicks
                WHERE id = u.id AND clicked_at >= u.second AND clicked_at < u.second + interval '1 second'
                  AND clicked_at >= $3::timestamptz AND clicked_at < $4::timestamptz
                LIMIT 1) k
          JOIN campaigns c ON c.id = k.campaign_id
          JOIN traffic_sources s ON s.id = k.traffic_source_id
          LEFT JOIN workspaces w ON w.id = k.workspace_id
          LEFT JOIN lander_clicks t ON k.lander_id IS NOT NULL AND t.click_id = k.id
          LEFT JOIN offers o ON o.id = coalesce(k.offer_id, t.offer_id)
          LIMIT 1
        ) k
        """

    static func forConversion(_ row: PostgresRow) throws -> ClickForConversion {
        var click = ClickForConversion(
            id: try row.decode("id"), clickedAt: try row.decode("clicked_at"), campaignID: try row.decode("campaign_id"),
            trafficSourceID: try row.decode("traffic_source_id"), workspaceID: try row.decode("workspace_id", as: Int64?.self),
            externalID: try row.decode("external_id", as: String?.self), campaignCurrency: try row.decode("currency"),
            workspaceSecret: try row.decode("postback_secret", as: String?.self), parameters: ClickStore.parameters(row),
            ip: row["ip"] ?? "", userAgent: row["user_agent"] ?? "", destination: row["destination"] ?? "")
        click.flowID = try row.decode("flow_id", as: Int64?.self)
        click.flowPath = try row.decode("flow_path", as: Int?.self)
        click.landerID = try row.decode("lander_id", as: Int64?.self)
        click.offerID = try row.decode("offer_id", as: Int64?.self)
        click.offerPayout = row["offer_payout"].map(Money.trim)
        click.offerCurrency = row["offer_currency"]
        return click
    }

    /// `k.p1, …, k.p30` for a query on `clicks k`.
    static let slotColumns = (1...TrafficSource.maxParameters).map { "k.p\($0)" }.joined(separator: ", ")

    /// Sources' declared parameters by their stored JSON: a postback's click names a source read
    /// a moment ago (decoding it was a sixth of the responder's time per postback).
    static let declaredParameters = TextCache<[TrafficSource.Parameter]>(capacity: 1024, maxLength: 16_384)

    /// A click's parameters by name from a row with `extra`, `source_parameters` and the slots.
    static func parameters(_ row: PostgresRow) -> [String: String] {
        var parameters: [String: String] = [:]
        if let extra = row["extra"], extra != "{}",
            let object = try? JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: String]
        {
            parameters = object
        }
        let declared = declaredParameters.value(for: row["source_parameters"] ?? "[]") { text in
            (try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data(text.utf8))) ?? []
        }
        for p in declared {
            if let v = row["p\(p.slot)"] { parameters[p.name] = v }
        }
        return parameters
    }
}
