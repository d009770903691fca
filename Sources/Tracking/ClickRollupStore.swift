import Postgres
import WaymarkCore

/// The click roll-ups' upkeep (the worker's): folding the deltas the click trigger writes into
/// the hourly rows, and cutting each workspace's daily rows in its time zone.
public struct ClickRollupStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// Folds the pending deltas into the hourly roll-ups; returns how many were folded.
    @discardableResult
    public func fold() throws -> Int64 {
        let folded = try database.query("SELECT waymark_fold_click_rollups() AS n")[0].decode("n", as: Int64.self)
        // A large fold (a spool replay, an import) leaves the deltas table full of dead rows
        // that every report would scan until autovacuum came.
        if folded > 10_000 { try database.query("VACUUM (ANALYZE) click_rollup_deltas") }
        return folded
    }

    /// A workspace whose time zone changed (or is new) gets its daily roll-ups cut anew in it;
    /// a zone with offsets that are not whole hours gets none (reports read the hourly rows).
    /// Only while it is still stale and still in the zone `whole` was computed for: another
    /// worker may have cut it meanwhile, or the zone changed again.
    public func rebuildDailyRollups() throws {
        for row in try database.query(
            "SELECT id, timezone FROM workspaces WHERE rollup_timezone IS DISTINCT FROM timezone ORDER BY id LIMIT 20")
        {
            let id: Int64 = try row.decode("id")
            let zone: String = try row.decode("timezone")
            let whole: Bool = try database.query(
                ZoneOffsetsQuery.wholeHours(zone, from: "now() - interval '800 days'", to: "now() + interval '400 days'"))[0]
                .decode("whole")
            try database.query("SELECT waymark_rebuild_stale_daily_rollups(\(id), \(zone), \(whole)) AS rebuilt")
        }
    }
}
