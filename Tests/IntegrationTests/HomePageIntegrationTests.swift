import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting

/// The home page through nginx for a member of one new workspace: today against yesterday, the
/// top source, the charts with axes and tooltips, and what needs attention.
@Suite(.needsStack, .timeLimit(.minutes(2))) struct HomePageIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP.tracking()

    @Test func todayYesterdayTopSourcesChartsAndAttention() throws {
        let tag = uniqueSuffix()
        let workspace: Int64 = try database.query(
            "INSERT INTO workspaces (name, timezone, currency) VALUES (\("home-\(tag)"), 'UTC', 'USD') RETURNING id")[0].decode("id")
        let users = UserStore(database: database)
        let adminEmail = "home-admin-\(tag)@example.test", memberEmail = "home-member-\(tag)@example.test"
        try users.create(email: adminEmail, password: "correct-horse-42", role: .admin)
        try users.create(email: memberEmail, password: "correct-horse-42", role: .member, workspaces: ["home-\(tag)"])
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: adminEmail, name: "t")))]
        let source = try api.postJSON(
            "/api/v1/traffic-sources", ["name": "Home source \(tag)", "cost_currency": "USD", "workspace_id": workspace])
        let campaign = try api.postJSON(
            "/api/v1/campaigns",
            [
                "name": "Home campaign", "traffic_source_id": try #require(source.json["id"] as? Int),
                "destination_url": "https://o.example/?s={clickid}",
            ])
        let key = try #require(campaign.json["key"] as? String)
        let ids = try (0..<3).map { _ in
            let location = try #require(try tracking.get("/c/\(key)").header("Location"))
            return try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "s" }?.value)
        }
        #expect(
            waitUntil(seconds: 20) {
                (try? database.query("SELECT count(*) AS n FROM clicks WHERE id = ANY(\(ids)::text[])")[0]["n"]) == "3"
            })
        #expect(try tracking.get("/postback?clickid=\(ids[0])&payout=5&txid=h1").status == 200)

        let member = TestBrowser()
        try member.login(memberEmail, "correct-horse-42")
        // Public objects (no workspace) of other tests are the member's too: the filter narrows to the new workspace.
        _ = try member.get("/")
        #expect(try member.post("/workspace-filter", [("workspace_id", String(workspace)), ("back", "/")]).status == 303)
        var page = ""
        // The click roll-ups are folded by the worker every few seconds.
        let counted = waitUntil(seconds: 20) {
            page = (try? member.get("/").text) ?? ""
            return page.contains(#"<th scope="row">Clicks</th><td class="num">3</td>"#)
        }
        #expect(counted, "today's clicks")
        let today = try #require(page.range(of: "<h2>Today")).lowerBound
        let yesterday = try #require(page.range(of: "<h2>Yesterday")).lowerBound
        let todayCard = String(page[today..<yesterday])
        #expect(
            todayCard.contains(#"<th scope="row">Conversions</th><td class="num">1</td><td class="num muted">0</td><td class="num">—</td>"#)
        )
        #expect(todayCard.contains(#"<th scope="row">Revenue</th><td class="num">5.00</td>"#))
        #expect(page.contains("Home source \(tag)</a>"), "the top source, linked to its report")
        #expect(page.contains("Home campaign</a>"))
        #expect(page.contains(#"<svg class="chart-svg""#) && page.contains(#"class="grid""#) && page.contains("<circle"))
        #expect(page.contains("<h2>Needs attention</h2>"))
        try database.query(
            """
            INSERT INTO deliveries (workspace_id, kind, target_name, url, state, max_attempts)
            VALUES (\(workspace), 'webhook', 'home test', 'https://hooks.example/x', 'failed', 3)
            """)
        let after = try member.get("/").text
        #expect(after.contains(#"deliveries failed</a>"#) && after.contains(#"<a href="/status">"#), "a failed delivery needs attention")
        #expect(page.contains(">home-\(tag)</a>"), "the workspace the numbers cover")
    }
}
