import Accounts
import Catalog
import Foundation
import Glibc
import HTTPClient
import Postgres
import Synchronization
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Issue 16: each attack reproduced against the stack, through nginx and PostgreSQL, refused.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct SecurityIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP(base: TestEnvironment.httpURL)
    let password = "correct-horse-42"

    struct Fixture {
        var api: TestHTTP
        var email: String
        var workspaceID: Int
        var sourceID: Int
        var campaignID: Int
        var key: String
    }

    /// A user of `role` (admin by default) in a new workspace, with a source and a campaign.
    func setUp(role: Role = .admin, secret: String? = nil, postback: [String: Any]? = nil) throws -> Fixture {
        let store = UserStore(database: database)
        let adminEmail = "sec-admin-\(uniqueSuffix())@example.test"
        _ = try store.create(email: adminEmail, password: password, role: .admin)
        var admin = TestHTTP()
        admin.headers = [("Authorization", "Bearer " + (try store.createToken(email: adminEmail, name: "t")))]
        let workspace = try admin.postJSON("/api/v1/workspaces", ["name": "Sec \(uniqueSuffix())", "timezone": "UTC", "currency": "USD"])
            .json
        let workspaceID = try #require(workspace["id"] as? Int)
        if let secret { try database.query("UPDATE workspaces SET postback_secret = \(secret) WHERE id = \(Int64(workspaceID))") }
        var source: [String: Any] = ["name": "S \(uniqueSuffix())", "workspace_id": workspaceID, "cost_currency": "USD"]
        if let postback { source["postback"] = postback }
        let sourceID = try #require(try admin.postJSON("/api/v1/traffic-sources", source).json["id"] as? Int)
        let campaign = try admin.postJSON(
            "/api/v1/campaigns",
            [
                "name": "C \(uniqueSuffix())", "traffic_source_id": sourceID, "destination_url": "https://offer.example/lp?s={clickid}",
                "cost_model": ["type": "auto"],
            ]
        ).json
        var email = adminEmail
        var api = admin
        if role != .admin {
            let name: String = try database.query("SELECT name FROM workspaces WHERE id = \(Int64(workspaceID))")[0].decode("name")
            email = "sec-\(role.rawValue)-\(uniqueSuffix())@example.test"
            _ = try store.create(email: email, password: password, role: role, workspaces: [name])
            api = TestHTTP()
            api.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        }
        return Fixture(
            api: api, email: email, workspaceID: workspaceID, sourceID: sourceID,
            campaignID: try #require(campaign["id"] as? Int), key: try #require(campaign["key"] as? String))
    }

    func click(_ key: String) throws -> (id: String, cookie: String) {
        let response = try tracking.get("/c/\(key)")
        #expect(response.status == 302)
        let location = try #require(response.header("Location"))
        let id = try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "s" }?.value)
        let cookie = try #require(response.headers("set-cookie").first { $0.hasPrefix("wm_click=") })
        return (id, String(cookie.split(separator: ";")[0]))
    }

    func count(_ sql: PostgresQuery) throws -> Int { try database.query(sql)[0].decode("n") }

    // MARK: reproduced attacks

    @Test func thePixelTakesTheClickFromItsCookieOnly() throws {
        let f = try setUp(secret: "pixel-secret-123")
        let c = try click(f.key)
        // A page that read the click id off a URL, without the visitor's cookie: nothing recorded.
        #expect(try tracking.get("/pixel.gif?clickid=\(c.id)&payout=5000").status == 200)
        #expect(try tracking.get("/pixel.gif?cid=\(c.id)&subid=\(c.id)&payout=5000").status == 200)
        #expect(try count("SELECT count(*)::int AS n FROM conversions WHERE click_id = \(c.id)") == 0)
        // A HEAD (a link checker, a prefetch) records nothing either.
        #expect(try tracking.send("HEAD", "/pixel.gif?payout=7", headers: [("Cookie", c.cookie)]).status == 200)
        #expect(try tracking.send("HEAD", "/postback?clickid=\(c.id)&payout=7&secret=pixel-secret-123").status == 405)
        #expect(try count("SELECT count(*)::int AS n FROM conversions WHERE click_id = \(c.id)") == 0)
        // The visitor's own pixel records; a status in its query cannot reverse the sale.
        #expect(try tracking.get("/pixel.gif?payout=12.5&txid=o1", headers: [("Cookie", c.cookie)]).status == 200)
        #expect(
            try tracking.get("/pixel.gif?payout=12.5&txid=o1&status=declined&clickid=other", headers: [("Cookie", c.cookie)]).status == 200)
        let rows = try database.query("SELECT status, payout = 12.5 AS right_payout FROM conversions WHERE click_id = \(c.id)")
        #expect(rows.count == 1)
        #expect(rows.first?["status"] == "approved")
        #expect(rows.first?["right_payout"] == "t")
    }

    @Test func outboundCallsNeverReachLocalAddresses() throws {
        // A listener on loopback that only a broken policy would reach (127.0.0.1 alone is open here).
        let trap = try TestListener(host: "127.0.0.2")
        for url in [
            "\(trap.url)/pb?c={clickid}", "http://[::1]:\(trap.port)/pb", "http://[::ffff:127.0.0.2]:\(trap.port)/pb",
            "http://0.0.0.0:\(trap.port)/pb", "http://2130706434:\(trap.port)/pb",
        ] {
            let f = try setUp(postback: ["enabled": true, "url": url])
            let c = try click(f.key)
            _ = try tracking.get("/postback?clickid=\(c.id)&payout=1")
            #expect(
                waitUntil(seconds: 10) {
                    (try? database.query("SELECT state FROM deliveries WHERE click_id = \(c.id)").first?["state"]) == "failed"
                }, "\(url)")
            let error = try database.query("SELECT last_error FROM deliveries WHERE click_id = \(c.id)").first?["last_error"] ?? ""
            #expect(error.contains("address_denied"), "\(url): \(error)")
        }
        // Webhooks and spend feeds go through the same policy.
        let f = try setUp()
        try database.query(
            "INSERT INTO webhooks (workspace_id, url, secret) VALUES (\(Int64(f.workspaceID)), \(trap.url + "/hook"), 'whsec-test')")
        let c = try click(f.key)
        _ = try tracking.get("/postback?clickid=\(c.id)&payout=2")
        #expect(
            waitUntil(seconds: 10) {
                (try? database.query("SELECT state FROM deliveries WHERE click_id = \(c.id) AND kind = 'webhook'").first?["state"])
                    == "failed"
            })
        let feed = try f.api.postJSON(
            "/api/v1/traffic-sources/\(f.sourceID)/spend-feeds",
            [
                "name": "trap", "url": trap.url + "/cost.csv", "format": "csv",
                "mapping": ["date": "date", "amount": "cost", "campaign": "campaign", "campaign_match": "name", "fixed_currency": "USD"],
            ])
        #expect(feed.status == 201, "\(feed.text)")
        let feedID = try #require(feed.json["id"] as? Int)
        let preview = try f.api.postJSON("/api/v1/traffic-sources/\(f.sourceID)/spend-feeds/\(feedID)/preview", [String: Any]())
        #expect((preview.json["error"] as? String)?.contains("address_denied") == true, "\(preview.text)")
        #expect(trap.requests.isEmpty)
        trap.stop()
    }

    @Test func loginNeverRedirectsOffSite() throws {
        let email = "sec-login-\(uniqueSuffix())@example.test"
        _ = try UserStore(database: database).create(email: email, password: password, role: .viewer)
        for next in ["/\r/evil.example", "/\t/evil.example", "/\n/evil.example", "/ /evil.example", "//evil.example", "/\\evil.example"] {
            let browser = TestBrowser()
            try browser.get("/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            let answer = try browser.post("/login", [("email", email), ("password", password), ("next", next)])
            #expect(answer.status == 303)
            #expect(answer.header("Location") == "/", "\(next.debugDescription) → \(answer.header("Location") ?? "")")
        }
        let browser = TestBrowser()
        try browser.get("/login")
        let fine = try browser.post("/login", [("email", email), ("password", password), ("next", "/reports?preset=today")])
        #expect(fine.header("Location") == "/reports?preset=today")
    }

    @Test func aViewerCannotRecordClicks() throws {
        let f = try setUp(role: .viewer)
        let answer = try f.api.postJSON("/api/v1/clicks", ["campaign_key": f.key, "parameters": ["cost": "999"]])
        #expect(answer.status == 403, "\(answer.text)")
        #expect(try count("SELECT count(*)::int AS n FROM clicks WHERE campaign_id = \(Int64(f.campaignID))") == 0)
    }

    @Test func aTokenCannotBeTheDestinationsHost() throws {
        let f = try setUp()
        for url in [
            "https://{sub1}/landing", "https://offer.example{sub1}/x", "https://{sub1}.offer.example/", "https://offer.example:{port}/",
            "https://user@{sub1}/", "https://offer.example\\{sub1}/",
        ] {
            let answer = try f.api.postJSON("/api/v1/campaigns", ["name": "X", "traffic_source_id": f.sourceID, "destination_url": url])
            #expect(answer.status == 422, "\(url): \(answer.status)")
        }
        // Tokens after the host stay fine.
        let ok = try f.api.postJSON(
            "/api/v1/campaigns",
            ["name": "Y", "traffic_source_id": f.sourceID, "destination_url": "https://offer.example/{sub1}?c={clickid}"])
        #expect(ok.status == 201, "\(ok.text)")
    }

    // MARK: findings

    @Test func onlyAdminsAttachUnattributedPostbacks() throws {
        // Another workspace's network sent a postback (with its secret) for an unknown click.
        let unknown = "unknown-\(uniqueSuffix())"
        #expect(try tracking.get("/postback?clickid=\(unknown)&payout=3&secret=theirs-secret-1").status == 202)
        let postbackID: Int64 = try database.query("SELECT id FROM postbacks WHERE click_id = \(unknown)")[0].decode("id")
        // A member of a workspace, with a click of their own, tries to attach it.
        let f = try setUp(role: .member)
        let c = try click(f.key)
        let browser = TestBrowser()
        try browser.login(f.email, password)
        try browser.get("/conversions")
        let answer = try browser.post("/postbacks/\(postbackID)/attach", [("click_id", c.id)])
        #expect(answer.status == 403)
        #expect(try database.query("SELECT outcome FROM postbacks WHERE id = \(postbackID)")[0]["outcome"] == "unattributed")
        let journey = try browser.get("/clicks/\(c.id)")
        #expect(!journey.text.contains("theirs-secret-1"))
        // The ledger never kept the secret anyway.
        #expect(
            try database.query("SELECT query FROM postbacks WHERE id = \(postbackID)")[0]["query"]?.contains("theirs-secret-1") == false)
    }

    @Test func movingASourceMovesItsIntegrationsAndFeeds() throws {
        let f = try setUp()
        let feed = try f.api.postJSON(
            "/api/v1/traffic-sources/\(f.sourceID)/spend-feeds",
            [
                "name": "costs", "url": "https://feeds.example/cost.csv", "format": "csv",
                "mapping": ["date": "date", "amount": "cost", "campaign": "campaign", "campaign_match": "name", "fixed_currency": "USD"],
            ])
        #expect(feed.status == 201, "\(feed.text)")
        _ = try f.api.get("/api/v1/traffic-sources/\(f.sourceID)/integrations/meta")
        let other = try #require(
            try f.api.postJSON("/api/v1/workspaces", ["name": "Moved \(uniqueSuffix())", "timezone": "UTC", "currency": "USD"]).json["id"]
                as? Int)
        let moved = try f.api.sendJSON("PATCH", "/api/v1/traffic-sources/\(f.sourceID)", ["workspace_id": other])
        #expect(moved.status == 200, "\(moved.text)")
        let left = try count(
            """
            SELECT (SELECT count(*) FROM spend_feeds WHERE traffic_source_id = \(Int64(f.sourceID)) AND workspace_id IS DISTINCT FROM
            \(Int64(other)))
                 + (SELECT count(*) FROM integrations WHERE traffic_source_id = \(Int64(f.sourceID)) AND workspace_id IS DISTINCT FROM
                 \(Int64(other))) AS n
            """)
        #expect(left == 0)
        #expect(try count("SELECT count(*)::int AS n FROM spend_feeds WHERE traffic_source_id = \(Int64(f.sourceID))") == 1)
    }

    @Test(.throughNginx) func previewsAndTestsTakeFewResponderThreadsAndRunNowIsTheWorkers() throws {
        let slow = try TestListener { _ in (200, "date,campaign,cost\n", 4) }
        let f = try setUp()
        let feed = try f.api.postJSON(
            "/api/v1/traffic-sources/\(f.sourceID)/spend-feeds",
            [
                "name": "slow", "url": slow.url + "/cost.csv", "format": "csv",
                "mapping": ["date": "date", "amount": "cost", "campaign": "campaign", "campaign_match": "name", "fixed_currency": "USD"],
            ])
        let feedID = try #require(feed.json["id"] as? Int)
        // Eight previews at once: four slots, the rest refused at once (503), not queued on threads.
        let previews = Thread.detachedResults(8) {
            (try? f.api.postJSON("/api/v1/traffic-sources/\(f.sourceID)/spend-feeds/\(feedID)/preview", [String: Any]()).status) ?? 0
        }
        // Meanwhile the click path answers as ever.
        usleep(500_000)
        for _ in 0..<20 { #expect(try tracking.get("/c/\(f.key)").status == 302) }
        let all = previews.wait()
        #expect(all.filter { $0 == 503 }.count >= 4, "\(all)")
        #expect(all.filter { $0 == 200 }.count >= 1, "\(all)")
        // Run now: the worker's run, recorded as manual.
        let run = try f.api.postJSON("/api/v1/traffic-sources/\(f.sourceID)/spend-feeds/\(feedID)/run", [String: Any]())
        #expect(run.status == 200 || run.status == 202, "\(run.text)")
        #expect(
            waitUntil(seconds: 30) {
                ((try? count(
                    """
                    SELECT count(*)::int AS n FROM spend_feed_runs WHERE feed_id = \(Int64(feedID)) AND trigger = 'manual' AND
                    finished_at IS NOT NULL
                    """
                )) ?? 0) == 1
            })
        slow.stop()
    }

    @Test func providerIDsAreASCIIDigitsAndErrorsCarryNoToken() throws {
        let f = try setUp()
        let path = "/api/v1/traffic-sources/\(f.sourceID)/integrations/meta"
        let arabic = try f.api.sendJSON("PATCH", path, ["pixel_id": "١٢٣٤٥"])
        #expect(arabic.status == 422, "\(arabic.text)")
        let fine = try f.api.sendJSON("PATCH", path, ["pixel_id": "1234567890"])
        #expect(fine.status == 200, "\(fine.text)")
        // Redaction is one function, used wherever an outbound error is stored.
        let text = Redaction.scrub(
            "GET https://graph.example/v1/1/events?access_token=EAAB-secret-token&x=1 failed: Bearer abc.def",
            secrets: ["EAAB-secret-token"])
        #expect(!text.contains("EAAB-secret-token") && !text.contains("abc.def"), "\(text)")
    }

    @Test func reportsShowNoNameOfAnotherWorkspace() throws {
        let theirs = try setUp()
        let theirName: String = try database.query("SELECT name FROM campaigns WHERE id = \(Int64(theirs.campaignID))")[0].decode("name")
        let mine = try setUp(role: .member)
        let browser = TestBrowser()
        try browser.login(mine.email, password)
        let page = try browser.get("/reports?campaign_id=\(theirs.campaignID)&traffic_source_id=\(theirs.sourceID)")
        #expect(!page.text.contains(theirName))
        let sourceName: String = try database.query("SELECT name FROM traffic_sources WHERE id = \(Int64(theirs.sourceID))")[0].decode(
            "name")
        #expect(!page.text.contains(sourceName))
    }

    @Test func viewersDoNotSeeThePostbackSecret() throws {
        let f = try setUp(role: .viewer, secret: "viewer-cannot-see-1")
        let campaign = try f.api.get("/api/v1/campaigns/\(f.campaignID)")
        #expect(campaign.status == 200)
        #expect(!campaign.text.contains("viewer-cannot-see-1"))
        #expect((campaign.json["postback_url"] as? String)?.contains("secret={secret}") == true, "\(campaign.text)")
        let browser = TestBrowser()
        try browser.login(f.email, password)
        #expect(!(try browser.get("/workspaces/\(f.workspaceID)").text.contains("viewer-cannot-see-1")))
        #expect(!(try browser.get("/campaigns/\(f.campaignID)/tracking").text.contains("viewer-cannot-see-1")))
    }

    @Test func feedHeadersCannotSplitARequest() throws {
        let f = try setUp()
        for headers in [["X-Key": "a\r\nX-Evil: 1"], ["X-Key": "a\nb"], ["X-Key": "a\u{0}b"], ["Bad Name": "v"], ["X\r\nEvil": "v"]] {
            let answer = try f.api.postJSON(
                "/api/v1/traffic-sources/\(f.sourceID)/spend-feeds",
                [
                    "name": "h", "url": "https://feeds.example/cost.csv", "format": "csv", "headers": headers,
                    "mapping": [
                        "date": "date", "amount": "cost", "campaign": "campaign", "campaign_match": "name", "fixed_currency": "USD",
                    ],
                ])
            // (A NUL is refused already as JSON, 400; the rest by the header check, 422.)
            #expect(answer.status == 422 || answer.status == 400, "\(headers): \(answer.text)")
            #expect(answer.text.contains("header") || answer.text.contains("NUL"), "\(answer.text)")
        }
    }

    @Test func unattributedPostbacksAreCappedExpiredAndLimited() throws {
        let unknown = "cap-\(uniqueSuffix())"
        let long = String(repeating: "x", count: 6000)
        #expect(try tracking.get("/postback?clickid=\(unknown)&payout=1&note=\(long)").status == 202)
        let kept: String = try database.query("SELECT query FROM postbacks WHERE click_id = \(unknown)")[0].decode("query")
        #expect(kept.utf8.count <= 2048)
        // Old ones expire (the worker, WAYMARK_UNATTRIBUTED_RETENTION_DAYS, 90 by default).
        try database.query("UPDATE postbacks SET received_at = now() - interval '91 days' WHERE click_id = \(unknown)")
        #expect(waitUntil(seconds: 15) { ((try? count("SELECT count(*)::int AS n FROM postbacks WHERE click_id = \(unknown)")) ?? 1) == 0 })
        // A flood from one address is cut off in the responder (429), with nothing stored for it.
        let before = try count("SELECT count(*)::int AS n FROM postbacks WHERE outcome = 'unattributed'")
        var limited = 0
        for i in 0..<260 where try tracking.get("/postback?clickid=flood-\(i)-\(uniqueSuffix())").status == 429 { limited += 1 }
        #expect(limited > 0)
        let stored = try count("SELECT count(*)::int AS n FROM postbacks WHERE outcome = 'unattributed'") - before
        #expect(stored + limited == 260)
        sleep(11)  // the bucket refills before the next test sends postbacks from this address
    }

    @Test(.throughNginx) func parallelLoginAttemptsDoNotOvershootTheLock() throws {
        let email = "sec-par-\(uniqueSuffix())@example.test"
        _ = try UserStore(database: database).create(email: email, password: password, role: .viewer)
        defer { _ = try? database.query("DELETE FROM login_throttle WHERE key LIKE 'ip:%' OR key LIKE \("%" + email + "%")") }
        let all = inParallel(16) { (try? TestBrowser().login(email, "wrong-password").status) ?? 0 }
        #expect(all.filter { $0 == 401 }.count <= 8, "\(all)")
        #expect(all.contains(429), "\(all)")
        // (403/503: nginx's own /login rate limit refused a browser's first GET, so it had no CSRF token.)
        #expect(all.allSatisfy { [401, 429, 403, 503].contains($0) }, "\(all)")
    }

    @Test(.throughNginx) func theThrottleLocksAnAddressNotTheAccount() throws {
        let throttle = LoginThrottle(database: database)
        let email = "sec-owner-\(uniqueSuffix())@example.test"
        defer { _ = try? database.query("DELETE FROM login_throttle WHERE key LIKE \("%" + email + "%") OR key LIKE 'ip:198.51.100.%'") }
        // An attacker at one address fails, waiting out each slow-down, until locked.
        var verdict = LoginThrottle.Verdict.allowed
        for _ in 0..<20 {
            verdict = try throttle.attempt(email: email, ip: "198.51.100.7")
            if case .locked = verdict { break }
            if case .allowed = verdict { try throttle.failed(email: email, ip: "198.51.100.7") }
            try database.query("UPDATE login_throttle SET last_failure_at = now() - interval '1 hour' WHERE key LIKE \("%" + email + "%")")
        }
        guard case .locked = verdict else {
            Issue.record("never locked: \(verdict)")
            return
        }
        // The owner, from an address with no failures, is let through.
        #expect(try throttle.attempt(email: email, ip: "198.51.100.8") == .allowed)
        try throttle.succeeded(email: email, ip: "198.51.100.8")
        // A failure at the first address stays locked.
        guard case .locked = try throttle.attempt(email: email, ip: "198.51.100.7") else {
            Issue.record("unlocked")
            return
        }
    }

    @Test(.throughNginx) func theResponderSocketIsNotWorldWritable() throws {
        var info = stat()
        let path = TestEnvironment.varDirectory + "/run/waymark.sock"
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o007 == 0, "mode \(String(info.st_mode & 0o777, radix: 8))")
        // Another local user cannot speak FastCGI to it (and so cannot forge REMOTE_ADDR).
        let probe =
            ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('connected')\n"
                + "except OSError as e:\n print('refused', e.errno)")
        if getuid() == 0 {
            let status = try runProgram("/usr/sbin/runuser", ["-u", "nobody", "--", "python3", "-c", probe, path])
            #expect(status == 0)
            let output = try runCapturing("/usr/sbin/runuser", ["-u", "nobody", "--", "python3", "-c", probe, path])
            #expect(output.hasPrefix("refused"), "\(output)")
        }
        // nginx still reaches it.
        #expect(try TestHTTP().get("/healthz").status == 200)
    }

    /// `n` calls at once, each on its own thread (not a pool sized to the cores).
    func inParallel(_ n: Int, _ body: @escaping @Sendable () -> Int) -> [Int] {
        Thread.detachedResults(n, body).wait()
    }

    func runCapturing(_ path: String, _ arguments: [String]) throws -> String {
        let out = TestEnvironment.varDirectory + "/probe-\(uniqueSuffix()).txt"
        defer { unlink(out) }
        let quoted = ([path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        _ = try runProgram("/bin/sh", ["-c", quoted + " > '" + out + "' 2>&1"])
        return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    }
}

/// Calls running on their own threads, and their results once all are done.
final class ThreadResults: Sendable {
    let results = Mutex<[Int]>([])
    let done = DispatchSemaphore(value: 0)
    let count: Int

    init(_ count: Int) { self.count = count }

    func wait() -> [Int] {
        for _ in 0..<count { done.wait() }
        return results.withLock { $0 }
    }
}

extension Thread {
    static func detachedResults(_ n: Int, _ body: @escaping @Sendable () -> Int) -> ThreadResults {
        let box = ThreadResults(n)
        for _ in 0..<n {
            Thread.detachNewThread {
                let value = body()
                box.results.withLock { $0.append(value) }
                box.done.signal()
            }
        }
        return box
    }
}
