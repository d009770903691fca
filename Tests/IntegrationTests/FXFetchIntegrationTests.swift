import Accounts
import Foundation
import Glibc
import HTTPClient
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting

/// The worker's FX fetch (issue: no download by hand): a local fake of the ECB's files, a worker
/// of the test's own pointed at it (the stack's worker has WAYMARK_FX_URL=off), the 90-day
/// file first, the daily one after, "Fetch now" on the FX page, and failures shown without
/// touching the stored rates.
@Suite(.needsStack, .serialized, .timeLimit(.minutes(3))) struct FXFetchIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    static func ecb(_ days: [(String, String)]) -> String {
        let cubes = days.map { #"<Cube time="\#($0.0)"><Cube currency="SEK" rate="\#($0.1)"/><Cube currency="USD" rate="1.1"/></Cube>"# }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
            <gesmes:subject>Reference rates</gesmes:subject><gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
            <Cube>\(cubes.joined())</Cube></gesmes:Envelope>
            """
    }

    func rate(_ day: String) throws -> String? {
        try database.query("SELECT trim_scale(rate)::text AS r FROM fx_rates WHERE currency = 'SEK' AND day = \(day)::date").first?["r"]
    }

    func state() throws -> PostgresRow {
        try database.query("SELECT last_error, last_url, last_success_at IS NOT NULL AS ok FROM fx_fetch WHERE id = 1")[0]
    }

    /// A worker whose FX URLs are the listener's; stopped by the returned closure.
    func worker(_ listener: TestListener) throws -> () -> Void {
        let pid = try startProgram(
            FileManager.default.currentDirectoryPath + "/.build/release/waymark", ["worker"],
            environment: [
                "WAYMARK_VAR": TestEnvironment.varDirectory, "WAYMARK_FX_URL": listener.url + "/eurofxref-daily.xml",
                "WAYMARK_FX_HISTORY_URL": listener.url + "/eurofxref-hist-90d.xml",
            ])
        return {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    func admin() throws -> TestBrowser { try TestBrowser.signedIn(.admin, prefix: "fx", database: database).browser }

    func reset() throws {
        try database.query("UPDATE fx_fetch SET claimed_at = NULL, last_attempt_at = NULL, last_success_at = NULL, requested_at = NULL")
        try database.query("DELETE FROM fx_rates WHERE currency = 'SEK' AND day < date '2002-01-01'")
    }

    @Test func theNinetyDayFileFirstThenTheDailyOneOnFetchNow() throws {
        try reset()
        let listener = try TestListener { received in
            received.target.hasSuffix("hist-90d.xml")
                ? (200, FXFetchIntegrationTests.ecb([("2001-01-02", "100.5"), ("2001-01-03", "101.5")]), 0)
                : (200, FXFetchIntegrationTests.ecb([("2001-01-04", "102.5")]), 0)
        }
        defer { listener.stop() }
        let stop = try worker(listener)
        defer { stop() }
        #expect(waitUntil(seconds: 20) { (try? rate("2001-01-03")) == "101.5" }, "the first fetch reads the 90-day file")
        #expect(try rate("2001-01-02") == "100.5")
        #expect(try rate("2001-01-04") == nil)
        #expect(listener.requests.map(\.target) == ["/eurofxref-hist-90d.xml"])
        #expect(listener.requests.first?.headers["user-agent"] == "Waymark/1.0 (FX rates)")

        let browser = try admin()
        let page = try browser.get("/fx")
        #expect(page.text.contains("Fetched from the ECB"))
        #expect(page.text.contains("/eurofxref-hist-90d.xml"))
        #expect(try browser.post("/fx/fetch", []).status == 303)
        #expect(waitUntil(seconds: 20) { (try? rate("2001-01-04")) == "102.5" }, "Fetch now reads the daily file")
        #expect(listener.requests.map(\.target).last == "/eurofxref-daily.xml")
        #expect(try state()["last_error"] == nil)
        let source = try database.query("SELECT source FROM fx_rates WHERE currency = 'SEK' AND day = '2001-01-04'")[0]["source"]
        #expect(source == "ECB (fetched)")
    }

    @Test func aFailedFetchIsShownAndChangesNoRate() throws {
        try reset()
        try database.query(
            "INSERT INTO fx_rates (currency, day, rate, source) VALUES ('SEK', '2001-01-02', 99, 'manual') ON CONFLICT DO NOTHING")
        // The 90-day file (no fetch has succeeded yet): down at first, then malformed.
        let calls = Calls()
        let listener = try TestListener { _ in calls.next() == 1 ? (500, "down", 0) : (200, "<Cube time=", 0) }
        defer { listener.stop() }
        let stop = try worker(listener)
        defer { stop() }
        #expect(waitUntil(seconds: 20) { ((try? state())?["last_error"] ?? "").contains("HTTP 500") })
        #expect(try state()["ok"] == "f")
        let browser = try admin()
        let status = try browser.get("/status")
        #expect(status.text.contains("The last fetch failed"))
        #expect(status.text.contains("HTTP 500"))
        // Not retried before half an hour, unless asked.
        #expect(try browser.post("/fx/fetch", []).status == 303)
        #expect(
            waitUntil(seconds: 20) { ((try? state())?["last_error"] ?? "").contains("XML file") },
            "the first fetch failed, so the 90-day file again")
        #expect(listener.requests.map(\.target) == ["/eurofxref-hist-90d.xml", "/eurofxref-hist-90d.xml"])
        #expect(try rate("2001-01-02") == "99", "a failed fetch changes no rate")
    }

    @Test func theOutboundPolicyAppliesToTheFetch() throws {
        try reset()
        // 127.0.0.2 is outside WAYMARK_OUTBOUND_ALLOW in the tests, like any private address.
        let listener = try TestListener(host: "127.0.0.2")
        defer { listener.stop() }
        let stop = try worker(listener)
        defer { stop() }
        #expect(waitUntil(seconds: 20) { ((try? state())?["last_error"] ?? "").isEmpty == false })
        #expect(listener.requests.isEmpty, "nothing reached the denied address")
    }
}

/// Counts a listener's requests (its answer closure runs on the listener's thread).
final class Calls: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func next() -> Int {
        lock.withLock {
            count += 1
            return count
        }
    }
}
