import Tracking
import WaymarkCore
import Web

/// `GET /healthz`: 200 with the database reachable, 503 while it is not; also the bytes of
/// clicks waiting in the spool for the database.
struct HealthRoutes {
    let store: HealthStore
    let spool: ClickSpool

    func register(on router: Router) {
        router.get("/healthz", health)
    }

    private func health(_ request: Request) -> Response {
        let databaseOK = store.isDatabaseReachable()
        return .json(Health(databaseOK: databaseOK, clickSpoolBytes: spool.pendingBytes), status: databaseOK ? 200 : 503)
    }
}

/// The `/healthz` answer.
struct Health: Encodable {
    var status: String
    var database: String
    var clickSpoolBytes: Int

    init(databaseOK: Bool, clickSpoolBytes: Int) {
        status = databaseOK ? "ok" : "degraded"
        database = databaseOK ? "ok" : "unavailable"
        self.clickSpoolBytes = clickSpoolBytes
    }
}
