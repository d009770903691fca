import Postgres
import Web

/// `GET /healthz`: 200 with the database reachable, 503 while it is not.
struct HealthRoutes {
    let database: PostgresPool

    func register(on router: Router) {
        router.get("/healthz") { _ in
            let databaseOK = (try? database.query("SELECT 1 AS ok", prepared: true).first?["ok"]) == "1"
            return .jsonObject(
                ["status": databaseOK ? "ok" : "degraded", "database": databaseOK ? "ok" : "unavailable"],
                status: databaseOK ? 200 : 503)
        }
    }
}
