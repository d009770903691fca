import Catalog
import Foundation
import Postgres

/// What the campaign cache reads: every live campaign with what its redirect needs, or one by key.
public enum CachedCampaignStore {
    public static let query: PostgresQuery = """
        SELECT c.id, c.key, c.status, c.destination_url, c.fallback_url, c.cost_model, c.cost_amount::text AS cost_amount,
               c.traffic_source_id, s.workspace_id, s.click_id_param, s.parameters::text AS parameters, c.flow_id,
               coalesce(w.timezone, 'UTC') AS timezone
        FROM campaigns c JOIN traffic_sources s ON s.id = c.traffic_source_id LEFT JOIN workspaces w ON w.id = s.workspace_id
        WHERE c.archived_at IS NULL
        """

    public static func decode(_ row: PostgresRow) throws -> CachedCampaign {
        CachedCampaign(
            id: try row.decode("id"), key: try row.decode("key"), active: try row.decode("status", as: String.self) == "active",
            destinationURL: try row.decode("destination_url"), fallbackURL: try row.decode("fallback_url", as: String?.self),
            costModel: Campaign.CostModel(rawValue: try row.decode("cost_model")) ?? .none,
            costAmount: Decimal(string: try row.decode("cost_amount", as: String.self)) ?? 0,
            trafficSourceID: try row.decode("traffic_source_id"), workspaceID: try row.decode("workspace_id", as: Int64?.self),
            clickIDParam: try row.decode("click_id_param", as: String?.self),
            parameters: (try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data((row["parameters"] ?? "[]").utf8))) ?? [],
            flowID: try row.decode("flow_id", as: Int64?.self), timeZone: TimeZone(identifier: try row.decode("timezone")) ?? .gmt)
    }

    /// Every live campaign, on the cache's own (listening) connection.
    public static func all(on c: PostgresConnection) throws -> [CachedCampaign] {
        try c.query(query).map(decode)
    }

    /// One live campaign by key (nil when there is none).
    public static func campaign(key: String, in database: PostgresPool) throws -> CachedCampaign? {
        var query = query
        query.append(" AND c.key = \(key)")
        return try database.query(query).first.map(decode)
    }
}
