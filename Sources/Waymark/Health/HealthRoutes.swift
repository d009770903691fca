import Postgres
import Tracking
import Web

/// `GET /healthz`: 200 with the database reachable, 503 while it is not; also the bytes of
/// clicks waiting in the spool for the database.
struct HealthRoutes {
    let database: PostgresPool
    let spool: ClickSpool

    func register(on router: Router) {
        router.get("/healthz") { _ in
            let databaseOK = database.isReachable()
            return .jsonObject(
                [
                    "status": databaseOK ? "ok" : "degraded", "database": databaseOK ? "ok" : "unavailable",
                    "click_spool_bytes": spool.pendingBytes,
                ],
                status: databaseOK ? 200 : 503)
        }
    }
}
