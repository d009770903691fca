import Postgres

extension SpendFeedStore {
    /// Finished feed runs in the history by result, for `/metrics` (previews are not runs).
    public func runCountsByResult() throws -> [(result: String, count: Double)] {
        try database.query(
            "SELECT status, count(*) AS n FROM spend_feed_runs WHERE status <> 'running' AND trigger <> 'preview' GROUP BY status"
        ).map { r in (r["status"] ?? "", r["n"].flatMap(Double.init) ?? 0) }
    }
}
