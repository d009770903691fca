import Catalog
import Deliveries
import FastCGI
import Foundation
import Integrations
import Logging
import Postgres
import Reports
import Spend
import Threads

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
    let retentionDays: Int
    let unattributedRetentionDays: Int
    let sender: DeliverySender
    let syncs: IntegrationSync
    let feeds: SpendFeedStore
    private var partitionsCheckedAt = -Double.infinity

    public init(configuration: Configuration, logger: Logger, interval: Double = 5) throws {
        database = PostgresPool(conninfo: configuration.databaseURL, maxConnections: 4)
        let integrations = try IntegrationStore(configuration: configuration, database: database)
        self.logger = logger
        let host = ProcessInfo.processInfo.hostName
        id = "\(host):\(getpid())"
        self.interval = interval
        retentionDays = configuration.clickRetentionDays
        unattributedRetentionDays = configuration.unattributedRetentionDays
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
            do {
                try database.query(
                    """
                    INSERT INTO worker_heartbeats (worker_id, hostname, pid, started_at, beat_at)
                    VALUES (\(id), \(ProcessInfo.processInfo.hostName), \(Int(getpid())), \(started), now())
                    ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()
                    """)
            } catch {
                logger.warning("heartbeat failed: \(error)")
            }
            do {
                let folded = try database.query("SELECT waymark_fold_click_rollups() AS n")[0].decode("n", as: Int64.self)
                // A large fold (a spool replay, an import) leaves the deltas table full of dead
                // rows that every report would scan until autovacuum came.
                if folded > 10_000 { try database.query("VACUUM (ANALYZE) click_rollup_deltas") }
                try rebuildDailyRollups()
            } catch {
                logger.warning("click roll-ups: \(error)")
            }
            do {
                try expireUnattributedPostbacks()  // an index range: cheap every cycle
            } catch {
                logger.warning("unattributed postbacks: \(error)")
            }
            if monotonicSeconds() - partitionsCheckedAt > 3600 {
                do {
                    try maintainClickPartitions()
                    partitionsCheckedAt = monotonicSeconds()
                } catch {
                    logger.warning("click partitions: \(error)")
                }
            }
            let deadline = monotonicSeconds() + interval
            while monotonicSeconds() < deadline && !lock.withLock({ stopping }) { usleep(100_000) }
        }
        try? database.query("DELETE FROM worker_heartbeats WHERE worker_id = \(id)")
        logger.notice("worker \(id) stopped")
    }

    /// A workspace whose time zone changed (or is new) gets its daily roll-ups cut anew in it;
    /// a zone with offsets that are not whole hours gets none (reports read the hourly rows).
    func rebuildDailyRollups() throws {
        for row in try database.query(
            "SELECT id, timezone FROM workspaces WHERE rollup_timezone IS DISTINCT FROM timezone ORDER BY id LIMIT 20")
        {
            let zone: String = try row.decode("timezone")
            let whole: Bool = try database.query(
                ReportEngine.wholeHours(zone, from: "now() - interval '800 days'", to: "now() + interval '400 days'"))[0]
                .decode("whole")
            try database.query("SELECT waymark_rebuild_daily_rollups(\(try row.decode("id", as: Int64.self)), \(whole))")
        }
    }

    /// Integration pulls and spend feeds, on their own thread (outbound calls can take
    /// seconds): due ones at once, woken by `waymark_integrations` (Sync Now) or every few seconds.
    func runSyncs() {
        var connection: PostgresConnection?
        while !lock.withLock({ stopping }) {
            syncs.runDue { self.lock.withLock { self.stopping } }
            feeds.runDue { self.lock.withLock { self.stopping } }
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

    /// Postbacks that named no known click (and bad ones naming no workspace) are kept
    /// `WAYMARK_UNATTRIBUTED_RETENTION_DAYS`: anyone can send them, so they cannot stay forever.
    func expireUnattributedPostbacks() throws {
        guard unattributedRetentionDays > 0 else { return }
        let cutoff: PostgresQuery = "now() - make_interval(days => \(unattributedRetentionDays))"
        try database.query("DELETE FROM postbacks WHERE outcome = 'unattributed' AND received_at < \(fragment: cutoff)")
        try database.query("DELETE FROM postbacks WHERE outcome = 'invalid' AND workspace_id IS NULL AND received_at < \(fragment: cutoff)")
    }

    /// Creates the next week's click partitions and drops those past the retention, with their
    /// roll-ups (reports then agree with the raw clicks for every period).
    func maintainClickPartitions() throws {
        try database.query("SELECT waymark_ensure_click_partition((now() AT TIME ZONE 'UTC')::date + d) FROM generate_series(-1, 7) AS d")
        guard retentionDays > 0 else { return }
        let old = try database.query(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = 'clicks' AND c.relname ~ '^clicks_[0-9]{8}$'
              AND to_date(substr(c.relname, 8), 'YYYYMMDD') < (now() AT TIME ZONE 'UTC')::date - \(retentionDays)::int
            """)
        for row in old {
            let name: String = try row.decode("relname")
            // The name matched ^clicks_[0-9]{8}$ above, so it is safe as an identifier.
            let start: PostgresQuery = "(to_date(\(String(name.dropFirst(7))), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC')"
            try database.transaction { c in
                try c.query(PostgresQuery(unescaped: "DROP TABLE IF EXISTS \(name)"))
                try c.query("DELETE FROM click_rollups WHERE hour >= \(fragment: start) AND hour < \(fragment: start) + interval '1 day'")
                try c.query(
                    "DELETE FROM click_rollup_deltas WHERE hour >= \(fragment: start) AND hour < \(fragment: start) + interval '1 day'")
                // A workspace's days straddle UTC days: the edge day of the retention may keep or
                // lose the hours of it that fall in the next UTC day.
                try c.query("DELETE FROM click_rollups_daily WHERE day <= (\(fragment: start) AT TIME ZONE 'UTC')::date")
            }
            logger.notice("dropped click partition \(name) (retention \(retentionDays) days)")
        }
    }
}
