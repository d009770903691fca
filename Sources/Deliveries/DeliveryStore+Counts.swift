import Postgres

extension DeliveryStore {
    /// Deliveries now in each (kind, state), for `/metrics`.
    public func countsByKindAndState() throws -> [(kind: String, state: String, count: Double)] {
        try database.query("SELECT kind, state, count(*) AS n FROM deliveries GROUP BY kind, state").map { r in
            (r["kind"] ?? "", r["state"] ?? "", r["n"].flatMap(Double.init) ?? 0)
        }
    }
}
