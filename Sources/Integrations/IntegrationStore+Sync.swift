import Catalog
import Foundation
import Postgres

/// The worker's side of an integration: claiming due pulls, their outcome, the pulled metrics,
/// and the integration a conversion is pushed through.
extension IntegrationStore {
    /// A due integration, leased for 15 minutes (`FOR UPDATE SKIP LOCKED`: two workers never take
    /// the same one; Sync Now during a pull makes the next one due but does not end the lease).
    public func claimDue() throws -> (integration: Integration, full: Bool)? {
        guard
            let row = try database.query(
                """
                UPDATE integrations SET next_sync_at = now() + interval '15 minutes', last_sync_at = now(),
                  sync_leased_until = now() + interval '15 minutes'
                WHERE id = (SELECT id FROM integrations WHERE status = 'active' AND sync_direction <> 'push' AND provider <> 'ga4'
                              AND account_id IS NOT NULL AND next_sync_at <= now()
                              AND (sync_leased_until IS NULL OR sync_leased_until <= now())
                              AND traffic_source_id IN (SELECT id FROM traffic_sources WHERE archived_at IS NULL)
                            ORDER BY next_sync_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id, full_sync_requested
                """
            ).first, let integration = try get(try row.decode("id"))
        else { return nil }
        return (integration, try row.decode("full_sync_requested"))
    }

    /// A pull succeeded: healthy again, next one after the interval (or at once when Sync Now
    /// was asked during the pull: it moved next_sync_at before the lease's end).
    public func pullSucceeded(_ id: Int64) throws {
        try database.query(
            """
            UPDATE integrations SET last_success_at = now(), consecutive_failures = 0, last_error = NULL,
              full_sync_requested = full_sync_requested AND coalesce(next_sync_at < sync_leased_until, false),
              next_sync_at = CASE WHEN next_sync_at < sync_leased_until THEN next_sync_at
                                  ELSE now() + make_interval(mins => sync_interval_minutes) END,
              sync_leased_until = NULL
            WHERE id = \(id)
            """)
    }

    /// A pull failed: back off (2, 4, 8 … minutes, at most the interval), unless asked again meanwhile.
    public func pullFailed(_ id: Int64, message: String) throws {
        try database.query(
            """
            UPDATE integrations SET consecutive_failures = consecutive_failures + 1, last_error = \(message),
              next_sync_at = CASE WHEN next_sync_at < sync_leased_until THEN next_sync_at
                                  ELSE now() + make_interval(mins => least(sync_interval_minutes,
                                                                           power(2, least(consecutive_failures + 1, 10))::int)) END,
              sync_leased_until = NULL
            WHERE id = \(id)
            """)
    }

    /// Replaces the window's metrics (rows of one key add up: a platform may split a day). The
    /// integration's row is locked first: a second landing of the same integration (a pull that
    /// outlived its lease) waits, and its DELETE, a later statement with a new snapshot, then
    /// replaces the first one's rows instead of adding to them.
    public func replaceMetrics(_ id: Int64, _ rows: [MetricRow], currency: String, from: String, to: String, on c: PostgresConnection)
        throws
    {
        try c.query("SELECT id FROM integrations WHERE id = \(id) FOR NO KEY UPDATE")
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
