import Foundation
import Glibc
import Postgres
import Testing
import Waymark
import WaymarkTesting

/// A real browser: Debian's headless Chromium, driven over WebDriver by Tests/Browser/*.py.
@Suite struct BrowserIntegrationTests {
    @Test func signInCreateAWorkspaceSeeItAndLogOut() throws {
        let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 1)
        let email = "browser-\(uniqueSuffix())@example.test"
        let password = "browser-pass-42"
        try UserStore(database: database).create(email: email, password: password, role: .owner)
        let root = TestEnvironment.scripts + "/.."
        let status = try runProgram("/usr/bin/python3", [root + "/Tests/Browser/admin_workspace.py"], environment: [
            "WAYMARK_BROWSER_BASE": TestEnvironment.baseURL, "WAYMARK_BROWSER_EMAIL": email,
            "WAYMARK_BROWSER_PASSWORD": password, "WAYMARK_BROWSER_ARTIFACTS": root + "/var/test-artifacts",
        ])
        #expect(status == 0, "see var/test-artifacts/browser-failure.png")
        let count: Int = try database.query("SELECT count(*)::int AS n FROM workspaces w JOIN audit_log a ON a.object_id = w.id::text AND a.object_type = 'workspace' WHERE a.actor = \(email)").first!.decode("n")
        #expect(count == 1)
    }

    @Test func createATikTokSourceAndCampaignAndReadTheURLOffTheTrackingTab() throws {
        let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 1)
        let email = "browser-\(uniqueSuffix())@example.test"
        let password = "browser-pass-42"
        try UserStore(database: database).create(email: email, password: password, role: .admin)
        let root = TestEnvironment.scripts + "/.."
        let output = root + "/var/test-artifacts/source-campaign.out"
        let status = try runProgram("/bin/sh", ["-c", "/usr/bin/python3 \"$0\" > \"$1\"", root + "/Tests/Browser/source_campaign.py", output], environment: [
            "WAYMARK_BROWSER_BASE": TestEnvironment.baseURL, "WAYMARK_BROWSER_EMAIL": email,
            "WAYMARK_BROWSER_PASSWORD": password, "WAYMARK_BROWSER_ARTIFACTS": root + "/var/test-artifacts",
        ])
        #expect(status == 0, "see var/test-artifacts/source-campaign-failure.png")
        let shown = try String(contentsOfFile: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let stored: String = try database.query("""
            SELECT c.campaign_url FROM campaigns c JOIN audit_log a ON a.object_type = 'campaign' AND a.object_id = c.id::text
            WHERE a.actor = \(email)
            """).first!.decode("campaign_url")
        #expect(shown == stored)
        #expect(stored.contains("campaign_id=__CAMPAIGN_ID__&campaign_name=__CAMPAIGN_NAME__"))
    }
}
