import Accounts
import Foundation
import Glibc
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// A real browser: Debian's headless Chromium, driven over WebDriver by Tests/Browser/*.py.
@Suite(.needsStack, .timeLimit(.minutes(10))) struct BrowserIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 1)
    let root = TestEnvironment.scripts + "/.."

    /// Runs `Tests/Browser/<script>` as a new user of `role`; returns its exit status, the
    /// user's e-mail and what the script printed.
    func runScript(_ script: String, as role: Role) throws -> (status: Int32, email: String, output: String) {
        let email = "browser-\(uniqueSuffix())@example.test"
        let password = "browser-pass-42"
        try UserStore(database: database).create(email: email, password: password, role: role)
        let output = root + "/var/test-artifacts/\(script).out"
        let status = try runProgram(
            "/bin/sh", ["-c", "/usr/bin/python3 \"$0\" > \"$1\"", root + "/Tests/Browser/" + script, output],
            environment: [
                "WAYMARK_BROWSER_BASE": TestEnvironment.baseURL, "WAYMARK_BROWSER_EMAIL": email,
                "WAYMARK_BROWSER_PASSWORD": password, "WAYMARK_BROWSER_ARTIFACTS": root + "/var/test-artifacts",
            ])
        let printed = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return (status, email, printed.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Every page at 1366 and 390 px: no page-level horizontal scroll, nothing cut off, and
    /// axe-core finds no serious or critical violation (screenshots in var/test-artifacts/pages).
    @Test func walkEveryPageAtALaptopAndAPhoneWidthWithAxe() throws {
        let run = try runScript("pages_walk.py", as: .owner)
        let failures = run.output.split(separator: "\n").filter { !$0.hasPrefix("ok") }.joined(separator: "\n")
        #expect(run.status == 0, "see var/test-artifacts/pages_walk.py.out and var/test-artifacts/pages/:\n\(failures)")
        #expect(run.output.contains(" 0 failed"), "\(failures)")
    }

    @Test func signInCreateAWorkspaceSeeItAndLogOut() throws {
        let run = try runScript("admin_workspace.py", as: .owner)
        #expect(run.status == 0, "see var/test-artifacts/workspaces-failure.png")
        let count: Int = try database.query(
            """
            SELECT count(*)::int AS n FROM workspaces w JOIN audit_log a ON a.object_id = w.id::text AND a.object_type = 'workspace'
            WHERE a.actor = \(run.email)
            """
        ).first!.decode("n")
        #expect(count == 1)
    }

    @Test func connectTheMetaFakeCardToCard() throws {
        let run = try runScript("integration_connect.py", as: .admin)
        #expect(run.status == 0, "see var/test-artifacts/integration-connect-failure.png")
        let sourceID = Int64(run.output.split(separator: "\n").last ?? "") ?? 0
        let row = try database.query(
            "SELECT status, account_id, access_token FROM integrations WHERE traffic_source_id = \(sourceID) AND provider = 'meta'"
        ).first
        #expect(row?["status"] == "active")
        #expect(row?["account_id"] == "act_123456789")
        #expect(row?["access_token"]?.hasPrefix("EAA") == false)
    }

    @Test func createATikTokSourceAndCampaignAndReadTheURLOffTheTrackingTab() throws {
        let run = try runScript("source_campaign.py", as: .admin)
        #expect(run.status == 0, "see var/test-artifacts/source-campaign-failure.png")
        let stored: String = try #require(
            try database.query(
                """
                SELECT c.campaign_url FROM campaigns c JOIN audit_log a ON a.object_type = 'campaign' AND a.object_id = c.id::text
                WHERE a.actor = \(run.email)
                """
            ).first
        ).decode("campaign_url")
        #expect(run.output == stored)
        #expect(stored.contains("campaign_id=__CAMPAIGN_ID__&campaign_name=__CAMPAIGN_NAME__"))
    }

    @Test func buildATwoPathFlowPutACampaignOnItAndOpenTheSplitTest() throws {
        let run = try runScript("flows.py", as: .admin)
        #expect(run.status == 0, "see var/test-artifacts/flows-failure.png")
        let flowID = Int64(run.output.split(separator: "\n").last ?? "") ?? 0
        let paths: String = try #require(try database.query("SELECT paths::text AS p FROM flows WHERE id = \(flowID)").first).decode("p")
        let stored = try JSONSerialization.jsonObject(with: Data(paths.utf8)) as? [[String: Any]] ?? []
        #expect(stored.map { $0["name"] as? String } == ["Zone 7", "Default"])
        #expect((stored.first?["rules"] as? [[String: Any]])?.first?["field"] as? String == "param:zone")
        let campaigns: Int = try database.query(
            "SELECT count(*)::int AS n FROM campaigns WHERE flow_id = \(flowID) AND destination_url = ''"
        ).first!.decode("n")
        #expect(campaigns == 1)
    }

    @Test func openTheDashboardDrillIntoACampaignAndExportCSV() throws {
        // Data for it to show: a click on a campaign of a new source.
        let setUp = try runScript("source_campaign.py", as: .admin)
        #expect(setUp.status == 0)
        let run = try runScript("reports.py", as: .admin)
        #expect(run.status == 0, "see var/test-artifacts/reports-failure.png")
        #expect(run.output.hasPrefix("day,clicks,unique_clicks") || run.output.hasPrefix("day,clicks,"))
    }
}
