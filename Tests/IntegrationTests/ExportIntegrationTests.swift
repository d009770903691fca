import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting

/// Settings → Export through nginx and FastCGI: a workspace's clicks and conversions as CSV,
/// streamed from a cursor (a long history arrives whole), cells a visitor wrote guarded against
/// spreadsheet formulas, and bad ranges or another workspace refused.
@Suite(.needsStack, .timeLimit(.minutes(3))) struct ExportIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP.tracking()

    /// A workspace in Kathmandu's zone with a source and a campaign; an admin's API client.
    func setUp() throws -> (workspace: Int64, key: String, campaign: Int64, source: Int64, admin: TestBrowser) {
        let name = "export-\(uniqueSuffix())"
        let workspace: Int64 = try database.query(
            "INSERT INTO workspaces (name, timezone) VALUES (\(name), 'Asia/Kathmandu') RETURNING id")[0].decode("id")
        let email = "export-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let source = try api.postJSON(
            "/api/v1/traffic-sources", ["name": "S \(uniqueSuffix())", "cost_currency": "USD", "workspace_id": workspace])
        let sourceID = try #require(source.json["id"] as? Int)
        let campaign = try api.postJSON(
            "/api/v1/campaigns",
            ["name": "C, \"quoted\"", "traffic_source_id": sourceID, "destination_url": "https://o.example/?s={clickid}"])
        let browser = TestBrowser()
        try browser.login(email, "correct-horse-42")
        return (
            workspace, try #require(campaign.json["key"] as? String), Int64(try #require(campaign.json["id"] as? Int)), Int64(sourceID),
            browser
        )
    }

    func csvLines(_ text: String) -> [String] { text.components(separatedBy: "\r\n").filter { !$0.isEmpty } }

    @Test func clicksAndConversionsComeAsCSVWithFormulasGuarded() throws {
        let s = try setUp()
        let location = try #require(
            try tracking.get(
                "/c/\(s.key)", headers: [("User-Agent", "=HYPERLINK(\"http://evil.example\")"), ("Referer", "https://r.example/a,b")]
            )
            .header("Location"))
        let click = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "s" }?.value)
        #expect(waitUntil(seconds: 20) { (try? database.query("SELECT 1 FROM clicks WHERE id = \(click)").first) != nil })
        #expect(try tracking.get("/postback?clickid=\(click)&payout=4.25&txid=e1").status == 200)
        let today = String(try database.query("SELECT (now() AT TIME ZONE 'Asia/Kathmandu')::date::text AS d")[0]["d"] ?? "")

        let clicks = try s.admin.get("/export/clicks.csv?workspace_id=\(s.workspace)&from=\(today)&to=\(today)")
        #expect(clicks.status == 200)
        #expect(clicks.header("Content-Type") == "text/csv; charset=utf-8")
        #expect(clicks.header("Content-Disposition")?.hasPrefix("attachment; filename=\"waymark-clicks-workspace-") == true)
        let lines = csvLines(clicks.text)
        #expect(lines.first?.hasPrefix("click_id,clicked_at,traffic_source,campaign,") == true)
        #expect(lines.count == 2)
        let row = lines.last ?? ""
        #expect(row.hasPrefix(click + ","))
        #expect(row.contains(#""C, ""quoted""""#), "a comma and quotes are quoted")
        #expect(row.contains(#""'=HYPERLINK(""http://evil.example"")""#), "the formula is guarded")
        #expect(row.contains(#""https://r.example/a,b""#))

        let conversions = try s.admin.get("/export/conversions.csv?workspace_id=\(s.workspace)&from=\(today)&to=\(today)")
        let converted = csvLines(conversions.text)
        #expect(converted.count == 2)
        #expect(converted.last?.contains(",\(click),") == true)
        #expect(converted.last?.contains(",e1,approved,4.250000,USD,") == true)
    }

    @Test func aLongHistoryStreamsWholeAndTheRangeIsTheWorkspacesDays() throws {
        let s = try setUp()
        try database.query(
            "SELECT waymark_ensure_click_partition(d::date) FROM generate_series(date '2021-03-03', date '2021-03-05', interval '1 day') d")
        // 30 000 clicks on 2021-03-04 in Kathmandu (UTC+5:45), one just before its midnight in UTC terms.
        try database.query(
            """
            INSERT INTO clicks (id, clicked_at, campaign_id, traffic_source_id, workspace_id, user_agent)
            SELECT 'exp' || \(s.workspace)::text || '-' || g, timestamptz '2021-03-04 00:00:00+05:45' + g * interval '2 seconds',
                   \(s.campaign)::bigint, \(s.source)::bigint, \(s.workspace)::bigint, 'ua ' || g
            FROM generate_series(0, 29999) g
            """)
        try database.query(
            """
            INSERT INTO clicks (id, clicked_at, campaign_id, traffic_source_id, workspace_id)
            VALUES (\("exp\(s.workspace)-late"), timestamptz '2021-03-05 00:00:00+05:45', \(s.campaign), \(s.source), \(s.workspace))
            """)
        let export = try s.admin.get("/export/clicks.csv?workspace_id=\(s.workspace)&from=2021-03-04&to=2021-03-04")
        #expect(export.status == 200)
        let lines = csvLines(export.text)
        #expect(lines.count == 30_001, "the header and every click of the day, none of the next")
        #expect(lines[1].hasPrefix("exp\(s.workspace)-0,2021-03-03T18:15:00.000Z,"))
        #expect(lines.last?.hasPrefix("exp\(s.workspace)-29999,") == true)
        #expect(Set(lines.dropFirst().map { $0.prefix { $0 != "," } }).count == 30_000)
        try database.query("DELETE FROM clicks WHERE workspace_id = \(s.workspace) AND clicked_at < '2021-03-06'")
    }

    @Test func badRangesAndOtherWorkspacesAreRefused() throws {
        let s = try setUp()
        let base = "/export/clicks.csv?workspace_id=\(s.workspace)"
        #expect(try s.admin.get(base + "&from=2021-03-05&to=2021-03-04").status == 422)
        #expect(try s.admin.get(base + "&from=2020-01-01&to=2021-12-31").status == 422)
        #expect(try s.admin.get(base + "&from=yesterday&to=2021-03-04").status == 422)
        #expect(try s.admin.get("/export/clicks.csv?from=2021-03-04&to=2021-03-04").status == 422)
        let email = "export-member-\(uniqueSuffix())@example.test"
        try UserStore(database: database).create(email: email, password: "correct-horse-42", role: .member)
        let member = TestBrowser()
        try member.login(email, "correct-horse-42")
        let other = try member.get(base + "&from=2021-03-04&to=2021-03-04")
        #expect(other.status == 404 || other.status == 403, "a workspace the member is not in")
        #expect(try s.admin.get("/export").text.contains("Download clicks"))
    }
}
