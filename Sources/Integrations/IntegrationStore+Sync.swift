import Catalog
import Foundation
import Postgres

/// The worker's side of an integration: claiming due pulls, their outcome, the pulled metrics,
/// and the integration a conversion is pushed through.
extension IntegrationStore {
    /// A due integration, leased for 15 minutes (`FOR UPDATE SKIP LOCKED`: two workers never take the same one).
    public func claimDue() throws -> (integration: Integration, full: Bool)? {
        guard
            let row = try database.query(
                """
                UPDATE integrations SET next_sync_at = now() + interval '15 minutes', last_sync_at = now()
                WHERE id = (SELECT id FROM integrations WHERE status = 'active' AND sync_direction <> 'push' AND provider <> 'ga4'
                              AND account_id IS NOT NULL AND next_sync_at <= now()
                              AND traffic_source_id IN (SELECT id FROM traffic_sources WHERE archived_at IS NULL)
                            ORDER BY next_sync_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, full_sync_requested
                """
            ).first, let integration = try get(try row.decode("id"))
        else { return nil }
        return (integration, try row.decode("full_sync_requested"))
    }

    /// A pull succeeded: healthy again, next one after the interval.
    public func pullSucceeded(_ id: Int64) throws {
        try database.query(
            """
            UPDATE integrations SET last_success_at = now(), consecutive_failures = 0, last_error = NULL, full_sync_requested = false,
              next_sync_at = now() + make_interval(mins => sync_interval_minutes) WHERE id = \(id)
            """)
    }

    /// A pull failed: back off (2, 4, 8 … minutes, at most the interval).
    public func pullFailed(_ id: Int64, message: String) throws {
        try database.query(
            """
            UPDATE integrations SET consecutive_failures = consecutive_failures + 1, last_error = \(message),
              next_sync_at = now() + make_interval(mins => least(sync_interval_minutes, power(2, least(consecutive_failures + 1, 10))::int))
            WHERE id = \(id)
            """)
    }

    /// Replaces the window's metrics (rows of one key add up: a platform may split a day).
    public func replaceMetrics(_ id: Int64, _ rows: [MetricRow], currency: String, from: String, to: String, on c: PostgresConnection)
        throws
    {
        try c.query("DELETE FROM integration_metrics WHERE integration_id = \(id) AND day BETWEEN \(from)::date AND \(to)::date")
        for r in rows {
            try c.query(
                """
                INSERT INTO integration_metrics (integration_id, day, level, campaign_id, campaign_name, ad_group_id, ad_group_name,
                                                 ad_id, ad_name, keyword, impressions, clicks, cost, currency)
                VALUES (\(id), \(r.day)::date, \(r.level), \(r.campaignID), \(r.campaignName), \(r.adGroupID), \(r.adGroupName),
                        \(r.adID), \(r.adName), \(r.keyword), \(r.impressions), \(r.clicks), \(r.cost)::numeric, \(currency))
                ON CONFLICT (integration_id, day, level, campaign_id, ad_group_id, ad_id, keyword) DO UPDATE
                  SET impressions = integration_metrics.impressions + excluded.impressions,
                      clicks = integration_metrics.clicks + excluded.clicks, cost = integration_metrics.cost + excluded.cost
                """)
        }
    }

    /// The integration a conversion of `event` is pushed through, with the mapped action and the
    /// conversion's time: only an enabled mapping, while active or paused, and when it pushes.
    public static func pushTarget(integrationID: Int64, event: String, conversionID: Int64, on c: PostgresConnection) throws
        -> (integration: Integration, providerAction: String, convertedAt: Date)?
    {
        guard
            let row = try c.query(
                """
                SELECT i.id, m.provider_action, v.converted_at
                FROM integrations i
                JOIN conversion_mappings m ON m.integration_id = i.id AND m.event_key = \(event) AND m.enabled
                JOIN conversions v ON v.id = \(conversionID)
                WHERE i.id = \(integrationID) AND i.status IN ('active', 'paused') AND i.sync_direction <> 'pull'
                """
            ).first,
            let integration = try c.query(
                "SELECT \(fragment: Integration.columns) FROM integrations WHERE id = \(try row.decode("id", as: Int64.self))"
            ).first.map(Integration.decode)
        else { return nil }
        return (integration, try row.decode("provider_action"), try row.decode("converted_at"))
    }
}
