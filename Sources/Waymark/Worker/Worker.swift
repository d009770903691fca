import Catalog
import Conversions
import Deliveries
import Foundation
import Integrations
import Logging
import Postgres
import Spend
import Threads
import Tracking
import WaymarkCore

/// `waymark worker`: the process for everything slow or outbound. It keeps a heartbeat row
/// (is a worker alive?), folds the click roll-ups' deltas, and keeps the click partitions
/// (created a week ahead, dropped past the retention); a second thread sends the outbox
/// (DeliverySender).
public final class Worker: @unchecked Sendable {
    // `stopping` is written by the signal thread and read by the loop; guarded by `lock`.
    private let lock = NSLock()
    private var stopping = false
    let database: PostgresPool
    let logger: Logger
    let id: String
    let interval: Double
    let retentionOverrides: RetentionOverrides
    let retentionSettings: RetentionSettingsStore
    let sender: DeliverySender
    let syncs: IntegrationSync
    let feeds: SpendFeedStore
    let heartbeats: WorkerHeartbeatStore
    let rollups: ClickRollupStore
    let conversionRollups: ConversionRollupStore
    let partitions: ClickPartitionStore
    let postbacks: PostbackStore
    let fx: FXFetcher
    private var partitionsCheckedAt = -Double.infinity
    private var lastClickRetention: Int?

    public init(configuration: Configuration, logger: Logger, interval: Double = 5) throws {
        database = PostgresPool(conninfo: configuration.databaseURL, maxConnections: 4)
        let integrations = try IntegrationStore(configuration: configuration, database: database)
        self.logger = logger
        let host = ProcessInfo.processInfo.hostName
        id = "\(host):\(getpid())"
        self.interval = interval
        retentionOverrides = configuration.retention
        sender = DeliverySender(
            conninfo: configuration.databaseURL,
            policy: .init(
                backoffSeconds: configuration.deliveryBackoffSeconds, timeout: configuration.outboundTimeoutSeconds,
                outbound: configuration.outbound),
            workerID: id, logger: logger, pushes: IntegrationPushSender(store: integrations))
        syncs = IntegrationSync(store: integrations, database: database, logger: logger)
        feeds = SpendFeedStore(
            database: database, secrets: integrations.secrets, sources: TrafficSourceStore(database: database),
            outbound: configuration.outbound)
        heartbeats = WorkerHeartbeatStore(database: database)
        rollups = ClickRollupStore(database: database)
        conversionRollups = ConversionRollupStore(database: database)
        partitions = ClickPartitionStore(database: database)
        postbacks = PostbackStore(database: database)
        retentionSettings = RetentionSettingsStore(database: database)
        fx = FXFetcher(
            state: FXFetchStore(database: database), rates: FXStore(database: database), outbound: configuration.outbound,
            dailyURL: configuration.fxURL, historyURL: configuration.fxHistoryURL)
    }

    public func run() throws {
        try spawnThread { [self] in
            waitForTermination()
            lock.withLock { stopping = true }
        }
        try spawnThread { [self] in sender.run { self.lock.withLock { self.stopping } } }
        try spawnThread { [self] in runSyncs() }
        let started = Date()
        logger.notice("worker \(id) started")
        while !lock.withLock({ stopping }) {
            maintain(started: started)
            let deadline = monotonicSeconds() + interval
            while monotonicSeconds() < deadline && !lock.withLock({ stopping }) { usleep(100_000) }
        }
        try? heartbeats.remove(workerID: id)
        logger.notice("worker \(id) stopped")
    }

    /// One cycle of upkeep; each step logs its own failure and the others still run.
    func maintain(started: Date) {
        do {
            try heartbeats.beat(workerID: id, hostname: ProcessInfo.processInfo.hostName, pid: Int(getpid()), startedAt: started)
        } catch {
            logger.warning("heartbeat failed: \(error)")
        }
        do {
            try rollups.fold()
            try conversionRollups.fold()
            try rollups.rebuildDailyRollups()
        } catch {
            logger.warning("roll-ups: \(error)")
        }
        let retention = self.retention()
        do {
            // Index ranges: cheap every cycle.
            try postbacks.expire(olderThanDays: retention.unattributedDays)
            try database.withConnection { c in _ = try OutboxStore().expire(olderThanDays: retention.deliveryDays, on: c) }
        } catch {
            logger.warning("retention of postbacks and deliveries: \(error)")
        }
        if monotonicSeconds() - partitionsCheckedAt > 3600 || retention.clickDays != lastClickRetention {
            do {
                lastClickRetention = retention.clickDays
                try maintainClickPartitions(retentionDays: retention.clickDays)
                partitionsCheckedAt = monotonicSeconds()
            } catch {
                logger.warning("click partitions: \(error)")
            }
        }
    }

    /// Settings → Retention with the environment's values over it (the defaults while the
    /// database does not answer, which drops nothing: nothing runs then).
    func retention() -> RetentionSettings {
        ((try? retentionSettings.get().settings) ?? .defaults).overridden(by: retentionOverrides)
    }

    /// Integration pulls, spend feeds and the daily FX rates, on their own thread (outbound calls can take
    /// seconds): due ones at once, woken by `waymark_integrations` (Sync Now) or every few seconds.
    func runSyncs() {
        var connection: PostgresConnection?
        while !lock.withLock({ stopping }) {
            syncs.runDue { self.lock.withLock { self.stopping } }
            feeds.runDue { self.lock.withLock { self.stopping } }
            if let fetched = fx.runDue() {
                if let error = fetched.error {
                    logger.warning("FX rates: \(error)")
                } else {
                    logger.notice("FX rates: \(fetched.stored) rates from \(fetched.url)")
                }
            }
            do {
                if connection == nil {
                    let c = try PostgresConnection(conninfo: database.conninfo)
                    try c.listen("waymark_integrations")
                    connection = c
                }
                _ = try connection!.waitForNotifications(timeout: 2)
            } catch {
                connection = nil
                usleep(2_000_000)
            }
        }
    }

    /// Creates the next week's click partitions and drops those past the retention, with their
    /// roll-ups (reports then agree with the raw clicks for every period).
    func maintainClickPartitions(retentionDays: Int) throws {
        try partitions.ensureComingWeek()
        guard retentionDays > 0 else { return }
        for name in try partitions.dropExpired(retentionDays: retentionDays) {
            logger.notice("dropped click partition \(name) (retention \(retentionDays) days)")
        }
    }
}
