import FastCGI
import Foundation
import Logging
import Postgres

/// `waymark worker`: the process for everything slow or outbound. For now it keeps a
/// heartbeat row so the Status page can tell whether a worker is alive; later issues add
/// deliveries, syncs and roll-ups as jobs on this loop.
public final class Worker: @unchecked Sendable {
    // `stopping` is written by the signal thread and read by the loop; guarded by `lock`.
    private let lock = NSLock()
    private var stopping = false
    let database: PostgresPool
    let logger: Logger
    let id: String
    let interval: Double

    public init(configuration: Configuration, logger: Logger, interval: Double = 5) {
        database = PostgresPool(conninfo: configuration.databaseURL, maxConnections: 4)
        self.logger = logger
        let host = ProcessInfo.processInfo.hostName
        id = "\(host):\(getpid())"
        self.interval = interval
    }

    public func run() throws {
        try spawnThread { [self] in
            waitForTermination()
            lock.withLock { stopping = true }
        }
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
            let deadline = monotonicSeconds() + interval
            while monotonicSeconds() < deadline && !lock.withLock({ stopping }) { usleep(100_000) }
        }
        try? database.query("DELETE FROM worker_heartbeats WHERE worker_id = \(id)")
        logger.notice("worker \(id) stopped")
    }
}
