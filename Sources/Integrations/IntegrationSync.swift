import Catalog
import Deliveries
import Foundation
import Logging
import Postgres
import WaymarkCore

/// The worker's pulls: claims a due integration (a lease under `FOR UPDATE SKIP LOCKED`, so
/// two workers never pull the same one), re-reads its window (the last `lookback_days` days,
/// since platforms revise them; 90 days on a full sync), replaces the window's metrics and
/// integration spend in one transaction, and records the attempt.
public struct IntegrationSync: Sendable {
    public let store: IntegrationStore
    public let database: PostgresPool
    public let logger: Logger
    public static let fullWindowDays = 90

    public init(store: IntegrationStore, database: PostgresPool, logger: Logger) {
        self.store = store
        self.database = database
        self.logger = logger
    }

    /// Pulls every due integration; returns how many ran.
    @discardableResult
    public func runDue(stopping: () -> Bool = { false }) -> Int {
        var ran = 0
        while !stopping() {
            do {
                guard let claimed = try claim() else { break }
                sync(claimed.integration, full: claimed.full)
                ran += 1
            } catch {
                logger.warning("integration syncs: \(error)")
                break
            }
        }
        return ran
    }

    public func claim() throws -> (integration: Integration, full: Bool)? {
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
            ).first, let integration = try store.get(try row.decode("id"))
        else { return nil }
        return (integration, try row.decode("full_sync_requested"))
    }

    public func sync(_ integration: Integration, full: Bool) {
        guard let provider = store.providers[integration.provider] else { return }
        let today = Date()
        let to = Dates.day(today)
        let from = Dates.day(
            today.addingTimeInterval(-Double(full ? IntegrationSync.fullWindowDays - 1 : integration.lookbackDays) * 86400))
        var syncID: Int64?
        do {
            syncID = try store.startSync(integration.id, kind: full ? "full_pull" : "pull", from: from, to: to)
            let rows: [MetricRow]
            do {
                rows = try provider.pull(try store.context(integration), from: from, to: to)
            } catch let failure as ProviderFailure where failure.kind == .authorization && integration.hasRefreshToken {
                // The access token was refused before its time: refresh once and try again.
                rows = try provider.pull(try store.context(integration, forceRefresh: true), from: from, to: to)
            }
            let written = try land(integration, rows, from: from, to: to)
            try store.finishSync(syncID!, status: "success", read: rows.count, written: written)
            try database.query(
                """
                UPDATE integrations SET last_success_at = now(), consecutive_failures = 0, last_error = NULL, full_sync_requested = false,
                  next_sync_at = now() + make_interval(mins => sync_interval_minutes) WHERE id = \(integration.id)
                """)
            logger.info("integration \(integration.id) (\(integration.provider)) pulled \(rows.count) rows for \(from)…\(to)")
        } catch {
            let failure = error as? ProviderFailure ?? ProviderFailure(.temporary, "\(error)")
            if let syncID { try? store.finishSync(syncID, status: "failed", error: failure.message) }
            // Throttled or failing: back off (2, 4, 8 … minutes, at most the interval).
            let message = failure.kind == .authorization ? "Reconnection required: " + failure.message : failure.message
            try? database.query(
                """
                UPDATE integrations SET consecutive_failures = consecutive_failures + 1, last_error = \(message),
                  next_sync_at = now() + make_interval(mins => least(sync_interval_minutes, power(2, least(consecutive_failures + 1, 10))::int))
                WHERE id = \(integration.id)
                """)
            if failure.kind == .authorization { try? store.authorizationLost(integration.id, failure.message) }
            logger.warning("integration \(integration.id) (\(integration.provider)) sync failed: \(failure.message)")
        }
    }

    /// Replaces the window's metrics and the spend they make, in one transaction. Campaign-level
    /// cost lands as spend (origin `integration`) on the Waymark campaign whose clicks carry the
    /// platform campaign id in `campaign_param`, else at source level with that dimension.
    public func land(_ integration: Integration, _ rows: [MetricRow], from: String, to: String) throws -> Int {
        let currency = integration.accountCurrency ?? "USD"
        let campaignIDs = Array(Set(rows.filter { $0.level == "campaign" }.map(\.campaignID)))
        let matches = try match(integration, campaignIDs, from: from)
        return try database.transaction { c in
            try c.query(
                "DELETE FROM integration_metrics WHERE integration_id = \(integration.id) AND day BETWEEN \(from)::date AND \(to)::date")
            for r in rows {
                try c.query(
                    """
                    INSERT INTO integration_metrics (integration_id, day, level, campaign_id, campaign_name, ad_group_id, ad_group_name, ad_id, ad_name,
                                                     keyword, impressions, clicks, cost, currency)
                    VALUES (\(integration.id), \(r.day)::date, \(r.level), \(r.campaignID), \(r.campaignName), \(r.adGroupID), \(r.adGroupName),
                            \(r.adID), \(r.adName), \(r.keyword), \(r.impressions), \(r.clicks), \(r.cost)::numeric, \(currency))
                    ON CONFLICT (integration_id, day, level, campaign_id, ad_group_id, ad_id, keyword) DO UPDATE
                      SET impressions = integration_metrics.impressions + excluded.impressions, clicks = integration_metrics.clicks + excluded.clicks,
                          cost = integration_metrics.cost + excluded.cost
                    """)
            }
            try c.query(
                "DELETE FROM spend_entries WHERE integration_id = \(integration.id) AND origin = 'integration' AND day BETWEEN \(from)::date AND \(to)::date"
            )
            var spend = 0
            for r in rows where r.level == "campaign" {
                let dimensions = String(
                    decoding: try JSONSerialization.data(withJSONObject: [integration.campaignParam: r.campaignID], options: [.sortedKeys]),
                    as: UTF8.self)
                try c.query(
                    """
                    INSERT INTO spend_entries (workspace_id, day, traffic_source_id, campaign_id, dimensions, amount, currency, origin, created_by, impressions, integration_id)
                    VALUES (\(integration.workspaceID), \(r.day)::date, \(integration.sourceID), \(matches[r.campaignID]), \(dimensions)::jsonb,
                            \(r.cost)::numeric, \(currency), 'integration', \(integration.provider), \(r.impressions), \(integration.id))
                    ON CONFLICT (day, traffic_source_id, coalesce(campaign_id, 0), dimensions) DO UPDATE
                      SET amount = excluded.amount, currency = excluded.currency, origin = 'integration', impressions = excluded.impressions,
                          integration_id = excluded.integration_id, updated_at = now()
                    """)
                spend += 1
            }
            return rows.count + spend
        }
    }

    /// Platform campaign id → the Waymark campaign whose clicks carry it most (the last 30 days
    /// before the window too, as ads run before their cost is pulled).
    public func match(_ integration: Integration, _ ids: [String], from: String) throws -> [String: Int64] {
        try CampaignMatch.byParameter(
            database, sourceID: integration.sourceID, name: integration.campaignParam, values: ids,
            since: "(\(from)::date - 30)::timestamptz")
    }
}
