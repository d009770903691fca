import Conversions
import Tracking
import WaymarkCore
import Web

/// `GET /healthz`: 200 with the database reachable, 503 while it is not; also the bytes of
/// clicks and of postbacks waiting in their spools for the database.
struct HealthRoutes {
    let store: HealthStore
    let spool: ClickSpool
    let postbackSpool: PostbackSpool

    func register(on router: Router) {
        router.get("/healthz", health)
    }

    private func health(_ request: Request) -> Response {
        let databaseOK = store.isDatabaseReachable()
        let health = Health(databaseOK: databaseOK, clickSpoolBytes: spool.pendingBytes, postbackSpoolBytes: postbackSpool.pendingBytes)
        return .json(health, status: databaseOK ? 200 : 503)
    }
}

/// The `/healthz` answer.
struct Health: Encodable {
    var status: String
    var database: String
    var clickSpoolBytes: Int
    var postbackSpoolBytes: Int

    init(databaseOK: Bool, clickSpoolBytes: Int, postbackSpoolBytes: Int) {
        status = databaseOK ? "ok" : "degraded"
        database = databaseOK ? "ok" : "unavailable"
        self.clickSpoolBytes = clickSpoolBytes
        self.postbackSpoolBytes = postbackSpoolBytes
    }
}
