import Foundation
import Postgres

/// `worker_heartbeats`: one row per running worker, beaten every cycle and removed when it
/// stops, so the status page can tell whether a worker is alive.
public struct WorkerHeartbeatStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public struct Heartbeat: Sendable {
        public var workerID: String
        public var hostname: String
        public var pid: String
        public var startedAt: Date
        public var beatAt: Date
        /// Beaten in the last 30 seconds.
        public var alive: Bool
    }

    public func beat(workerID: String, hostname: String, pid: Int, startedAt: Date) throws {
        try database.query(
            """
            INSERT INTO worker_heartbeats (worker_id, hostname, pid, started_at, beat_at)
            VALUES (\(workerID), \(hostname), \(pid), \(startedAt), now())
            ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()
            """)
    }

    public func remove(workerID: String) throws {
        try database.query("DELETE FROM worker_heartbeats WHERE worker_id = \(workerID)")
    }

    /// Every worker's heartbeat, by id.
    public func list() throws -> [Heartbeat] {
        try database.query(
            """
            SELECT worker_id, hostname, pid, started_at, beat_at, now() - beat_at < interval '30 seconds' AS alive
            FROM worker_heartbeats ORDER BY worker_id
            """
        ).map { r in
            Heartbeat(
                workerID: r["worker_id"] ?? "", hostname: r["hostname"] ?? "", pid: r["pid"] ?? "", startedAt: try r.decode("started_at"),
                beatAt: try r.decode("beat_at"), alive: try r.decode("alive"))
        }
    }
}
