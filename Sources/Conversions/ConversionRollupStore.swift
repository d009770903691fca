import Postgres
import WaymarkCore

/// The conversion roll-ups' upkeep (the worker's): folding the deltas the conversion triggers
/// write into the days of workspaces cut in a zone. Zone changes are the click roll-ups'
/// rebuild, which cuts both anew.
public struct ConversionRollupStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// Folds the pending deltas; returns how many were folded.
    @discardableResult
    public func fold() throws -> Int64 {
        let folded = try database.query("SELECT waymark_fold_conversion_rollups() AS n")[0].decode("n", as: Int64.self)
        // A large fold (a replay, an import) leaves dead rows every report would scan.
        if folded > 10_000 { try database.query("VACUUM (ANALYZE) conversion_rollup_deltas") }
        return folded
    }
}
