import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting

/// Settings → Retention: owners set the days in one place, bad values are refused with the
/// field named, and the stack's worker applies them (finished deliveries past the days go,
/// pending ones stay).
@Suite(.needsStack, .serialized, .timeLimit(.minutes(2))) struct RetentionIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    func signedIn(_ role: Role) throws -> TestBrowser { try TestBrowser.signedIn(role, prefix: "retention", database: database).browser }

    func delivery(state: String, daysAgo: Int) throws -> Int64 {
        try database.query(
            """
            INSERT INTO deliveries (kind, target_name, url, state, max_attempts, updated_at)
            VALUES ('webhook', 'retention test', 'https://hooks.example/x', \(state), 3, now() - make_interval(days => \(daysAgo)))
            RETURNING id
            """
        )[0].decode("id")
    }

    func exists(_ id: Int64) throws -> Bool { try database.query("SELECT 1 FROM deliveries WHERE id = \(id)").first != nil }

    @Test func ownersSetRetentionAndTheWorkerAppliesIt() throws {
        let owner = try signedIn(.owner)
        defer {
            _ = try? owner.post("/settings/retention", [("click_days", "400"), ("unattributed_days", "90"), ("delivery_days", "90")])
        }
        let page = try owner.get("/settings/retention")
        #expect(page.status == 200)
        #expect(page.text.contains(#"name="click_days""#))
        let bad = try owner.post("/settings/retention", [("click_days", "5"), ("unattributed_days", "x"), ("delivery_days", "30")])
        #expect(bad.status == 422)
        #expect(bad.text.contains("0 (keep forever) or a whole number of days from 30"))
        #expect(try database.query("SELECT click_days FROM retention_settings")[0]["click_days"] != "5")

        let old = try delivery(state: "delivered", daysAgo: 40)
        let failed = try delivery(state: "failed", daysAgo: 40)
        let pending = try delivery(state: "pending", daysAgo: 40)
        let recent = try delivery(state: "delivered", daysAgo: 10)
        #expect(
            try owner.post("/settings/retention", [("click_days", "400"), ("unattributed_days", "90"), ("delivery_days", "30")]).status
                == 303)
        let row = try database.query("SELECT delivery_days, updated_by FROM retention_settings")[0]
        #expect(row["delivery_days"] == "30")
        #expect(waitUntil(seconds: 20) { (try? exists(old)) == false }, "the worker removed the delivery finished 40 days ago")
        #expect(try exists(failed) == false)
        #expect(try exists(pending), "a pending delivery is never removed")
        #expect(try exists(recent))
        let audited = try database.query(
            "SELECT count(*) AS n FROM audit_log WHERE object_type = 'retention_settings' AND actor = \(row["updated_by"] ?? "")")
        #expect(audited[0]["n"] != "0")
        _ = try database.query("DELETE FROM deliveries WHERE id IN (\(pending), \(recent))")

        let admin = try signedIn(.admin)
        #expect(try admin.get("/settings/retention").status == 403)
        #expect(
            try admin.post("/settings/retention", [("click_days", "0"), ("unattributed_days", "0"), ("delivery_days", "0")]).status == 403)
        #expect(try admin.get("/settings").status == 200)
    }
}
