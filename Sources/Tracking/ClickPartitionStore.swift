import Foundation
import Postgres

/// The clicks table's daily partitions: made a week ahead (and on demand by the click writer),
/// dropped with their roll-ups past the retention, so reports agree with the raw clicks.
public struct ClickPartitionStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// Partitions from yesterday to a week ahead (UTC days).
    public func ensureComingWeek() throws {
        try database.query("SELECT waymark_ensure_click_partition((now() AT TIME ZONE 'UTC')::date + d) FROM generate_series(-1, 7) AS d")
    }

    /// Partitions for days counted from 1970-01-01 (UTC), on the caller's connection.
    public static func ensure(days: some Sequence<Int>, on c: PostgresConnection) throws {
        for day in days {
            try c.query("SELECT waymark_ensure_click_partition(date '1970-01-01' + \(day)::int)")
        }
    }

    /// Drops the partitions of days more than `retentionDays` ago (UTC) with their roll-ups;
    /// returns the names of the dropped tables.
    public func dropExpired(retentionDays: Int) throws -> [String] {
        let old = try database.query(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = 'clicks' AND c.relname ~ '^clicks_[0-9]{8}$'
              AND to_date(substr(c.relname, 8), 'YYYYMMDD') < (now() AT TIME ZONE 'UTC')::date - \(retentionDays)::int
            """)
        var dropped: [String] = []
        for row in old {
            let name: String = try row.decode("relname")
            try drop(name)
            dropped.append(name)
        }
        return dropped
    }

    /// `name` matched ^clicks_[0-9]{8}$, so it is safe as an identifier. Under the roll-up
    /// folds' lock, so a fold or rebuild in another worker neither deadlocks with these DELETEs
    /// nor writes the day's roll-ups back meanwhile. DROP waits for every reader of clicks (an
    /// export's cursor) and click inserts queue behind it: it gives up after 5 s instead (and is
    /// tried again at the next hourly upkeep).
    private func drop(_ name: String) throws {
        let start: PostgresQuery = "(to_date(\(String(name.dropFirst(7))), 'YYYYMMDD')::timestamp AT TIME ZONE 'UTC')"
        try database.transaction { c in
            try c.query("SELECT pg_advisory_xact_lock(7431001)")
            try c.query("SET LOCAL lock_timeout = '5s'")
            try c.query(PostgresQuery(unescaped: "DROP TABLE IF EXISTS \(name)"))
            try c.query("SET LOCAL lock_timeout = 0")
            try c.query("DELETE FROM click_rollups WHERE hour >= \(fragment: start) AND hour < \(fragment: start) + interval '1 day'")
            try c.query("DELETE FROM click_rollup_deltas WHERE hour >= \(fragment: start) AND hour < \(fragment: start) + interval '1 day'")
            try c.query("SELECT waymark_drop_lander_clicks(\(fragment: start))")
            // A workspace's days straddle UTC days: the edge day of the retention may keep or
            // lose the hours of it that fall in the next UTC day.
            try c.query("DELETE FROM click_rollups_daily WHERE day <= (\(fragment: start) AT TIME ZONE 'UTC')::date")
        }
    }
}
