import FastCGI
import Foundation
import Logging
import Postgres

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
    let sender: DeliverySender
    private var partitionsCheckedAt = -Double.infinity

    public init(configuration: Configuration, logger: Logger, interval: Double = 5) {
        database = PostgresPool(conninfo: configuration.databaseURL, maxConnections: 4)
        self.logger = logger
        let host = ProcessInfo.processInfo.hostName
        id = "\(host):\(getpid())"
        self.interval = interval
        retentionDays = configuration.clickRetentionDays
        sender = DeliverySender(
            conninfo: configuration.databaseURL,
            policy: .init(backoffSeconds: configuration.deliveryBackoffSeconds, timeout: configuration.outboundTimeoutSeconds,
                          deny: IPRanges(configuration.outboundDeny)),
            workerID: id, logger: logger)
    }

    public func run() throws {
        try spawnThread { [self] in
            waitForTermination()
            lock.withLock { stopping = true }
        }
        try spawnThread { [self] in sender.run { self.lock.withLock { self.stopping } } }
        let started = Date()
        logger.notice("worker \(id) started")
        while !lock.withLock({ stopping }) {
            do {
                try database.query("""
                    INSERT INTO worker_heartbeats (worker_id, hostname, pid, started_at, beat_at)
                    VALUES (\(id), \(ProcessInfo.processInfo.hostName), \(Int(getpid())), \(started), now())
                    ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()
                    """)
            } catch {
                logger.warning("heartbeat failed: \(error)")
            }
            do {
                try database.query("SELECT waymark_fold_click_rollups()")
            } catch {
                logger.warning("click roll-ups: \(error)")
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

    /// Creates the next week's click partitions and drops those past the retention, with their
    /// roll-ups (reports then agree with the raw clicks for every period).
    func maintainClickPartitions() throws {
        try database.query("SELECT waymark_ensure_click_partition((now() AT TIME ZONE 'UTC')::date + d) FROM generate_series(-1, 7) AS d")
        guard retentionDays > 0 else { return }
        let old = try database.query("""
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
                try c.query("DELETE FROM click_rollup_deltas WHERE hour >= \(fragment: start) AND hour < \(fragment: start) + interval '1 day'")
            }
            logger.notice("dropped click partition \(name) (retention \(retentionDays) days)")
        }
    }
}
