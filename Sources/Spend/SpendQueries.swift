import Foundation
import Postgres
import WaymarkCore
import Web

/// `from`/`to` (dates, default the last 30 days) and `traffic_source_id` of spend lists.
public struct SpendFilter {
    public var from: String
    public var to: String
    public var sourceID: Int64?

    public init(_ request: Request) throws(HTTPError) {
        (from, to) = try Dates.period(request, defaultDays: 30)
        if let text = request.queryValue("traffic_source_id"), !text.isEmpty {
            guard let id = Int64(text) else { throw HTTPError.badRequest("traffic_source_id must be a number", field: "traffic_source_id") }
            sourceID = id
        }
    }
}

public struct SpendRow {
    public var id: Int64
    public var day: String
    public var sourceID: Int64
    public var sourceName: String
    public var campaignID: Int64?
    public var campaignName: String
    public var dimensions: [String: String]
    public var amount: String
    public var currency: String
    public var origin: String
    public var updatedAt: Date
    public var createdBy: String

    public var json: [String: Any] {
        [
            "id": id, "date": day, "traffic_source_id": sourceID, "campaign_id": campaignID.map { $0 as Any } ?? NSNull(),
            "dimensions": dimensions.isEmpty ? NSNull() : dimensions as Any, "amount": amount, "currency": currency, "origin": origin,
            "updated_at": RFC3339.string(from: updatedAt),
        ]
    }

    public var page: [String: Any] {
        [
            "day": day, "source": sourceName, "campaign": campaignName,
            "dimensions": dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
            "amount": amount, "currency": currency, "origin": origin, "by": createdBy, "updated_at": RFC3339.string(from: updatedAt),
        ]
    }
}

public enum SpendQueries {
    public static func condition(_ filter: SpendFilter, _ actor: Actor) -> PostgresQuery {
        """
        \(fragment: actor.visibleWorkspaces("e.workspace_id")) AND e.day BETWEEN \(filter.from)::date AND \(filter.to)::date
          AND (\(filter.sourceID)::bigint IS NULL OR e.traffic_source_id = \(filter.sourceID))
        """
    }

    /// Newest first for pages (`after` nil); by id after the cursor for the API (its first page
    /// too: `after` 0), so that following `next_cursor` lists every row once.
    public static func list(_ database: PostgresPool, filter: SpendFilter, actor: Actor, after: Int64?, limit: Int) throws -> [SpendRow] {
        try database.query(
            """
            SELECT e.id, e.day::text AS day, e.traffic_source_id, s.name AS source_name, e.campaign_id, coalesce(c.name, '') AS campaign_name,
                   e.dimensions::text AS dimensions, e.amount::text AS amount, e.currency, e.origin, e.updated_at, e.created_by
            FROM spend_entries e JOIN traffic_sources s ON s.id = e.traffic_source_id LEFT JOIN campaigns c ON c.id = e.campaign_id
            WHERE \(fragment: condition(filter, actor)) AND e.id > \(after ?? 0)
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
    public static func totals(_ database: PostgresPool, filter: SpendFilter, actor: Actor) throws -> [String: String] {
        var out: [String: String] = [:]
        for r in try database.query(
            """
            SELECT e.currency, sum(e.amount)::text AS total FROM spend_entries e WHERE \(fragment: condition(filter, actor)) GROUP BY e.currency
            """)
        {
            out[try r.decode("currency")] = Money.trim(try r.decode("total"))
        }
        return out
    }
}
