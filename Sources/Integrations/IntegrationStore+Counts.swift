import Postgres

extension IntegrationStore {
    /// Integrations in each (provider, status), for `/metrics`.
    public func countsByProviderAndStatus() throws -> [(provider: String, status: String, count: Double)] {
        try database.query("SELECT provider, status, count(*) AS n FROM integrations GROUP BY provider, status").map { r in
            (r["provider"] ?? "", r["status"] ?? "", r["n"].flatMap(Double.init) ?? 0)
        }
    }

    /// Finished syncs in the history by (provider, result), for `/metrics`.
    public func syncCountsByProviderAndResult() throws -> [(provider: String, result: String, count: Double)] {
        try database.query(
            """
            SELECT i.provider, s.status, count(*) AS n FROM integration_syncs s JOIN integrations i ON i.id = s.integration_id
            WHERE s.status <> 'running' GROUP BY i.provider, s.status
            """
        ).map { r in (r["provider"] ?? "", r["status"] ?? "", r["n"].flatMap(Double.init) ?? 0) }
    }
}
