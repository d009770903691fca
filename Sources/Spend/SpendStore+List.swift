import Foundation
import Postgres
import WaymarkCore

/// Reading spend entries: the lists of the API and the spend page, and their totals.
extension SpendStore {
    /// The entries the actor sees in the filter's period (and source).
    public static func condition(_ filter: SpendFilter, _ actor: Actor) -> PostgresQuery {
        """
        \(fragment: actor.visibleWorkspaces("e.workspace_id")) AND e.day BETWEEN \(filter.from)::date AND \(filter.to)::date
          AND (\(filter.sourceID)::bigint IS NULL OR e.traffic_source_id = \(filter.sourceID))
        """
    }

    /// Newest first for pages (`after` nil); by id after the cursor for the API (its first page
    /// too: `after` 0), so that following `next_cursor` lists every row once.
    public func list(_ filter: SpendFilter, for actor: Actor, after: Int64?, limit: Int) throws -> [SpendRow] {
        try database.query(
            """
            SELECT e.id, e.day::text AS day, e.traffic_source_id, s.name AS source_name, e.campaign_id,
                   coalesce(c.name, '') AS campaign_name, e.dimensions::text AS dimensions, e.amount::text AS amount, e.currency,
                   e.origin, e.updated_at, e.created_by
            FROM spend_entries e JOIN traffic_sources s ON s.id = e.traffic_source_id LEFT JOIN campaigns c ON c.id = e.campaign_id
            WHERE \(fragment: SpendStore.condition(filter, actor)) AND e.id > \(after ?? 0)
            ORDER BY \(unescaped: after != nil ? "e.id" : "e.day DESC, e.id DESC") LIMIT \(limit)
            """
        ).map { r in
            SpendRow(
                id: try r.decode("id"), day: try r.decode("day"), sourceID: try r.decode("traffic_source_id"),
                sourceName: r["source_name"] ?? "",
                campaignID: try r.decode("campaign_id", as: Int64?.self), campaignName: r["campaign_name"] ?? "",
                dimensions: (try? JSONSerialization.jsonObject(with: Data((r["dimensions"] ?? "{}").utf8)) as? [String: String]) ?? [:],
                amount: Money.trim(try r.decode("amount")), currency: try r.decode("currency"), origin: try r.decode("origin"),
                updatedAt: try r.decode("updated_at"), createdBy: try r.decode("created_by"))
        }
    }

    /// Sum per currency over the whole filter (exact decimals as text).
    public func totals(_ filter: SpendFilter, for actor: Actor) throws -> [String: String] {
        var out: [String: String] = [:]
        for r in try database.query(
            """
            SELECT e.currency, sum(e.amount)::text AS total FROM spend_entries e
            WHERE \(fragment: SpendStore.condition(filter, actor)) GROUP BY e.currency
            """)
        {
            out[try r.decode("currency")] = Money.trim(try r.decode("total"))
        }
        return out
    }
}
