import Addresses
import Conversions
import CoreMetrics
import Deliveries
import Foundation
import Integrations
import Postgres
import Prometheus
import Spend
import Synchronization
import Tracking
import WaymarkCore
import Web

/// `GET /metrics` (SPEC §10, docs/operations.md): the Prometheus text format. The process's own
/// counters (clicks, postbacks, request latency) beside gauges read at scrape time: threads
/// busy, pool in use, spool bytes, and from PostgreSQL the deliveries, integrations, sync and
/// feed-run history and the workers' heartbeats (the same whichever responder answers). Never
/// public: nginx lets only loopback and `WAYMARK_METRICS_ALLOW` through, and so does this route.
final class MetricsRoutes: Sendable {
    struct Stores: Sendable {
        var deliveries: DeliveryStore
        var integrations: IntegrationStore
        var feeds: SpendFeedStore
        var clickSpool: ClickSpool
        var postbackSpool: PostbackSpool
        var database: PostgresPool { deliveries.database }
        var heartbeats: WorkerHeartbeatStore { WorkerHeartbeatStore(database: database) }
    }

    private let sources: Stores
    private let allowed: IPRanges
    private let threads: Int
    private let busy: @Sendable () -> Int
    /// History counts already added to each `_total` counter (they only ever grow by the difference).
    private let added = Mutex<[String: Double]>([:])

    /// `busy` counts the responder's requests in flight.
    init(_ sources: Stores, configuration: Configuration, busy: @escaping @Sendable () -> Int) {
        self.sources = sources
        allowed = IPRanges("127.0.0.1,::1," + configuration.metricsAllow)
        threads = configuration.threads
        self.busy = busy
    }

    func register(on router: Router) {
        router.get("/metrics", metrics)
    }

    private func metrics(_ request: Request) throws -> Response {
        guard allowed.contains(request.remoteAddress) else { throw HTTPError.forbidden("metrics are not served to this address") }
        refreshGauges()
        var response = Response(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: [])
        Telemetry.registry.emit(into: &response.body)
        return response
    }

    private func refreshGauges() {
        Gauge(label: "waymark_responder_threads").record(threads)
        Gauge(label: "waymark_responder_threads_busy").record(busy())
        Gauge(label: "waymark_db_pool_size").record(sources.database.maxConnections)
        Gauge(label: "waymark_db_pool_in_use").record(sources.database.inUse)
        Gauge(label: "waymark_click_spool_pending_bytes").record(sources.clickSpool.pendingBytes)
        Gauge(label: "waymark_postback_spool_pending_bytes").record(sources.postbackSpool.pendingBytes)
        // The database's side: skipped (last values kept) while it does not answer.
        if let rows = try? sources.deliveries.countsByKindAndState() {
            setAll("waymark_deliveries", ["kind", "state"], MetricsRoutes.deliveryKeys, rows.map { ([$0.kind, $0.state], $0.count) })
        }
        if let rows = try? sources.integrations.countsByProviderAndStatus() {
            let keys = MetricsRoutes.providers.flatMap { p in MetricsRoutes.integrationStatuses.map { [p, $0] } }
            setAll("waymark_integrations", ["provider", "status"], keys, rows.map { ([$0.provider, $0.status], $0.count) })
        }
        if let rows = try? sources.integrations.syncCountsByProviderAndResult() {
            let keys = MetricsRoutes.providers.flatMap { p in ["success", "partial", "failed"].map { [p, $0] } }
            addAll("waymark_integration_syncs_total", ["provider", "result"], keys, rows.map { ([$0.provider, $0.result], $0.count) })
        }
        if let rows = try? sources.feeds.runCountsByResult() {
            addAll("waymark_spend_feed_runs_total", ["result"], [["success"], ["failed"]], rows.map { ([$0.result], $0.count) })
        }
        if let beats = try? sources.heartbeats.list() {
            Gauge(label: "waymark_workers_alive").record(beats.filter(\.alive).count)
            let age = Gauge(label: "waymark_worker_heartbeat_age_seconds")
            // No worker at all: the series goes away, and the alert on its absence fires.
            if let newest = beats.map(\.beatAt).max() { age.record(max(0, Date().timeIntervalSince(newest))) } else { age.destroy() }
        }
    }

    /// Gauges of one family: every expected label set (0 when absent) and any other found.
    private func setAll(_ name: String, _ labels: [String], _ expected: [[String]], _ rows: [([String], Double)]) {
        var values = Dictionary(expected.map { ($0, 0.0) }, uniquingKeysWith: { a, _ in a })
        for (key, count) in rows { values[key, default: 0] += count }
        for (key, value) in values { Gauge(label: name, dimensions: Array(zip(labels, key))).record(value) }
    }

    /// Counters of one family from history counts: each grows by what the history gained since
    /// the last scrape (a pruned history lowers nothing).
    private func addAll(_ name: String, _ labels: [String], _ expected: [[String]], _ rows: [([String], Double)]) {
        var values = Dictionary(expected.map { ($0, 0.0) }, uniquingKeysWith: { a, _ in a })
        for (key, count) in rows { values[key, default: 0] += count }
        for (key, value) in values {
            let id = name + "|" + key.joined(separator: "|")
            let delta = added.withLock { seen in
                let before = seen[id] ?? 0
                seen[id] = max(before, value)
                return max(0, value - before)
            }
            Counter(label: name, dimensions: Array(zip(labels, key))).increment(by: Int64(delta))
        }
    }

    static let providers = ["google_ads", "meta", "tiktok", "ga4"]
    static let integrationStatuses = ["not_connected", "pending_account_selection", "active", "paused", "error"]
    static let deliveryKeys = ["postback", "webhook", "capi"].flatMap { k in ["pending", "delivered", "failed", "skipped"].map { [k, $0] } }
}
