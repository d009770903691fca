import Foundation
import Postgres

/// Finding Waymark campaigns by a value their clicks carry in a tracking parameter (a
/// platform's or a network's campaign id): how pulled and fed spend lands on campaigns.
extension CampaignStore {
    /// Value → the source's campaign whose clicks since `since` carry it most.
    public static func byParameter(_ database: PostgresPool, sourceID: Int64, name: String, values: [String], since: PostgresQuery) throws
        -> [String: Int64]
    {
        guard !values.isEmpty else { return [:] }
        let parameters = try database.query("SELECT parameters::text AS p FROM traffic_sources WHERE id = \(sourceID)").first?["p"] ?? "[]"
        let slot = ((try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data(parameters.utf8))) ?? []).first {
            $0.name == name
        }?.slot
        // The parameter's slot column (a number from the source's own list), else the extras.
        let value: PostgresQuery = slot.map { "k.p\(unescaped: String($0))" } ?? "(k.extra ->> \(name))"
        var out: [String: Int64] = [:]
        for row in try database.query(
            """
            SELECT DISTINCT ON (v) v, campaign_id FROM (
                SELECT \(fragment: value) AS v, k.campaign_id, count(*) AS n FROM clicks k
                WHERE k.traffic_source_id = \(sourceID) AND k.clicked_at >= \(fragment: since)
                  AND \(fragment: value) = ANY(\(values)::text[])
                GROUP BY 1, 2) x
            ORDER BY v, n DESC
            """)
        {
            out[try row.decode("v")] = try row.decode("campaign_id")
        }
        return out
    }
}
