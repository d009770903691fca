import Catalog
import Deliveries
import Foundation
import Logging
import Postgres
import Spend
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

    public func claim() throws -> (integration: Integration, full: Bool)? { try store.claimDue() }

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
            try store.pullSucceeded(integration.id)
            logger.info("integration \(integration.id) (\(integration.provider)) pulled \(rows.count) rows for \(from)…\(to)")
        } catch {
            let failure = error as? ProviderFailure ?? ProviderFailure(.temporary, "\(error)")
            if let syncID { try? store.finishSync(syncID, status: "failed", error: failure.message) }
            // Throttled or failing: back off (2, 4, 8 … minutes, at most the interval).
            let message = failure.kind == .authorization ? "Reconnection required: " + failure.message : failure.message
            try? store.pullFailed(integration.id, message: message)
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
            try store.replaceMetrics(integration.id, rows, currency: currency, from: from, to: to, on: c)
            let pull = SpendStore.IntegrationPull(
                integrationID: integration.id, workspaceID: integration.workspaceID, sourceID: integration.sourceID,
                provider: integration.provider, currency: currency, from: from, to: to)
            let costs = rows.filter { $0.level == "campaign" }.map { r in
                SpendStore.IntegrationCost(
                    day: r.day, campaignID: matches[r.campaignID], dimensions: [integration.campaignParam: r.campaignID], amount: r.cost,
                    impressions: r.impressions)
            }
            let spend = try SpendStore(database: database).replaceIntegrationSpend(pull, costs, on: c)
            return rows.count + spend
        }
    }

    /// Platform campaign id → the Waymark campaign whose clicks carry it most (the last 30 days
    /// before the window too, as ads run before their cost is pulled).
    public func match(_ integration: Integration, _ ids: [String], from: String) throws -> [String: Int64] {
        try CampaignStore.byParameter(
            database, sourceID: integration.sourceID, name: integration.campaignParam, values: ids,
            since: "(\(from)::date - 30)::timestamptz")
    }
}
