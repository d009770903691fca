import Accounts
import Conversions
import Crypto
import Foundation
import Glibc
import HTTPClient
import Postgres
import Synchronization
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Postbacks through the real nginx and PostgreSQL, and the worker sending what they queue.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct ConversionIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP(base: TestEnvironment.httpURL)

    struct Fixture {
        var api: TestHTTP
        var email: String
        var workspaceID: Int
        var sourceID: Int
        var campaignID: Int
        var key: String
    }

    /// An admin, a workspace (with `secret` as its postback secret), a source from `template`
    /// (or custom) with `postback`, and a campaign on it.
    func setUp(
        template: String? = nil, parameters: [[String: String]]? = nil, clickIDParam: String? = nil,
        postback: [String: Any]? = nil, secret: String? = nil
    ) throws -> Fixture {
        let email = "conv-\(uniqueSuffix())@example.test"
        let store = UserStore(database: database)
        _ = try store.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        let workspace = try api.postJSON("/api/v1/workspaces", ["name": "W \(uniqueSuffix())", "timezone": "UTC", "currency": "EUR"]).json
        let workspaceID = try #require(workspace["id"] as? Int)
        if let secret { try database.query("UPDATE workspaces SET postback_secret = \(secret) WHERE id = \(workspaceID)") }
        var source: [String: Any] = ["name": "S \(uniqueSuffix())", "workspace_id": workspaceID, "cost_currency": "USD"]
        if let template { source["template"] = template }
        let created = try api.postJSON("/api/v1/traffic-sources", source).json
        let sourceID = try #require(created["id"] as? Int)
        var patch: [String: Any] = [:]
        if let parameters { patch["parameters"] = parameters }
        if let clickIDParam { patch["click_id_param"] = clickIDParam }
        if let postback { patch["postback"] = postback }
        if !patch.isEmpty {
            let r = try api.send(
                "PATCH", "/api/v1/traffic-sources/\(sourceID)", headers: [("Content-Type", "application/json")],
                body: Array(try JSONSerialization.data(withJSONObject: patch)))
            #expect(r.status == 200, "\(r.text)")
        }
        let campaign = try api.postJSON(
            "/api/v1/campaigns",
            [
                "name": "C", "traffic_source_id": sourceID, "destination_url": "https://offer.example/lp?s={clickid}",
            ]
        ).json
        return Fixture(
            api: api, email: email, workspaceID: workspaceID, sourceID: sourceID, campaignID: try #require(campaign["id"] as? Int),
            key: try #require(campaign["key"] as? String))
    }

    /// Clicks the campaign URL; returns the click id from the Location.
    func click(_ key: String, _ query: String = "") throws -> String {
        let response = try tracking.get("/c/\(key)" + (query.isEmpty ? "" : "?" + query))
        #expect(response.status == 302)
        let location = try #require(response.header("Location"))
        return try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "s" }?.value)
    }

    func postback(_ query: String) throws -> HTTPResponse { try tracking.get("/postback?" + query) }

    func conversions(click: String) throws -> [(status: String, payout: String, currency: String, event: String)] {
        try database.query(
            "SELECT status, payout::text AS payout, currency, event_key FROM conversions WHERE click_id = \(click) ORDER BY id"
        ).map {
            (try $0.decode("status"), try $0.decode("payout"), try $0.decode("currency"), try $0.decode("event_key"))
        }
    }

    func deliveries(click: String) throws -> [(kind: String, state: String, attempts: Int, url: String)] {
        try database.query("SELECT kind, state, attempts, url FROM deliveries WHERE click_id = \(click) ORDER BY id").map {
            (try $0.decode("kind"), try $0.decode("state"), try $0.decode("attempts"), try $0.decode("url"))
        }
    }

    @Test func everyAnswerOfThePostbackTable() throws {
        let f = try setUp(secret: "s3cret-value")
        let clickID = try click(f.key)
        // Bad input: 400 naming the field, stored as received, nothing else changes.
        for (query, field) in [
            ("payout=abc", "payout"), ("payout=-1", "payout"), ("status=won", "status"), ("currency=EURO", "currency"),
            ("event=Bad%20Event", "event"),
        ] {
            let r = try postback("clickid=\(clickID)&secret=s3cret-value&" + query)
            #expect(r.status == 400, "\(query)")
            let error = try #require(r.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_parameter")
            #expect(error["field"] as? String == field)
        }
        #expect(try postback("payout=1").status == 400)
        #expect(try conversions(click: clickID).isEmpty)
        // Secret: missing and wrong → 403, logged.
        #expect(try postback("clickid=\(clickID)&payout=1").status == 403)
        #expect(try postback("clickid=\(clickID)&payout=1&secret=nope").status == 403)
        let refused: Int = try database.query(
            "SELECT count(*)::int AS n FROM postbacks WHERE click_id = \(clickID) AND outcome = 'forbidden'")[0].decode("n")
        #expect(refused == 2)
        // recorded → duplicate → updated; the alias cid works; default currency is the campaign's.
        let first = try postback("clickid=\(clickID)&payout=12.5&secret=s3cret-value")
        #expect(first.status == 200)
        #expect(first.json["status"] as? String == "recorded")
        let conversionID = try #require(first.json["conversion_id"] as? String)
        let again = try postback("cid=\(clickID)&payout=12.50&secret=s3cret-value")
        #expect(again.json["status"] as? String == "duplicate")
        #expect(again.json["conversion_id"] as? String == conversionID)
        let declined = try postback("subid=\(clickID)&payout=12.5&status=declined&secret=s3cret-value")
        #expect(declined.json["status"] as? String == "updated")
        #expect(try conversions(click: clickID).map(\.status) == ["declined"])
        #expect(try conversions(click: clickID).first?.currency == "USD")
        // A txid allows a second conversion on the same click; POST form and JSON bodies work.
        let form = try tracking.postForm(
            "/postback",
            [
                ("clickid", clickID), ("txid", "T-1"), ("payout", "3"), ("currency", "gbp"),
                ("event", "sale"), ("secret", "s3cret-value"),
            ])
        #expect(form.json["status"] as? String == "recorded")
        let json = try tracking.postJSON(
            "/postback",
            [
                "clickid": clickID, "txid": "T-1", "payout": 3, "currency": "GBP", "event": "sale",
                "status": "pending", "secret": "s3cret-value",
            ])
        #expect(json.json["status"] as? String == "updated")
        let all = try conversions(click: clickID)
        #expect(all.count == 2)
        #expect(all[1].status == "pending" && all[1].currency == "GBP" && all[1].payout == "3.000000" && all[1].event == "sale")
        let event: Int = try database.query(
            "SELECT count(*)::int AS n FROM conversion_events WHERE workspace_id = \(f.workspaceID) AND key = 'sale'")[0].decode("n")
        #expect(event == 1)
        // Unknown click: 202, stored as received.
        let unknown = try postback("clickid=nosuchclick&payout=2")
        #expect(unknown.status == 202)
        #expect(unknown.json["status"] as? String == "unattributed")
        // The ledger has every postback, with its outcome.
        let outcomes = try database.query("SELECT outcome, count(*)::int AS n FROM postbacks WHERE click_id = \(clickID) GROUP BY outcome")
            .reduce(into: [String: Int]()) { $0[try $1.decode("outcome")] = try $1.decode("n") }
        #expect(outcomes == ["invalid": 5, "forbidden": 2, "recorded": 2, "duplicate": 1, "updated": 2])
        // The API lists them; the click API shows them.
        let list = try f.api.get("/api/v1/conversions?campaign_id=\(f.campaignID)").json
        #expect((list["data"] as? [[String: Any]])?.count == 2)
        let clickJSON = try f.api.get("/api/v1/clicks/\(clickID)").json
        #expect((clickJSON["conversions"] as? [[String: Any]])?.count == 2)
    }

    @Test func twentyConcurrentIdenticalPostbacksMakeOneConversion() throws {
        let f = try setUp()
        let clickID = try click(f.key)
        let answers = Mutex<[String]>([])
        let group = DispatchGroup()
        for _ in 0..<20 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let status =
                    (try? TestHTTP(base: TestEnvironment.httpURL).get("/postback?clickid=\(clickID)&payout=5&txid=X"))?.json["status"]
                    as? String
                answers.withLock { $0.append(status ?? "error") }
            }
        }
        group.wait()
        let counted = answers.withLock { $0 }.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
        #expect(counted == ["recorded": 1, "duplicate": 19])
        #expect(try conversions(click: clickID).count == 1)
    }

    @Test func anUnattributedPostbackIsAttachedLater() throws {
        let f = try setUp()
        let orphan = "lost-\(uniqueSuffix())"
        #expect(try postback("clickid=\(orphan)&payout=7.25&txid=late&event=lead").status == 202)
        let postbackID: Int = try database.query("SELECT id FROM postbacks WHERE click_id = \(orphan)")[0].decode("id")
        let clickID = try click(f.key)
        let browser = TestBrowser()
        #expect(try browser.login(f.email, "correct-horse-42").status == 303)
        let page = try browser.get("/conversions/unattributed")
        #expect(page.text.contains(orphan))
        let attached = try browser.post("/postbacks/\(postbackID)/attach", [("click_id", clickID)])
        #expect(attached.status == 303)
        let all = try conversions(click: clickID)
        #expect(all.count == 1 && all[0].payout == "7.250000" && all[0].event == "lead")
        let outcome: String = try database.query("SELECT outcome FROM postbacks WHERE id = \(postbackID)")[0].decode("outcome")
        #expect(outcome == "attached")
        let journey = try browser.get("/clicks/\(clickID)")
        #expect(journey.status == 200)
        #expect(journey.text.contains("attached"))
    }

    @Test func tikTokAndTaboolaPostbacksReachThePlatformWithTheirTokens() throws {
        let platform = try TestListener()
        let tiktok = try setUp(
            template: "tiktok",
            postback: [
                "enabled": true,
                "url": platform.url
                    + "/tiktok?ttclid={external_id}&value={payout}&cur={currency}&ev={event}&ad={adgroup_id}&tx={txid}&st={status}",
            ])
        let tiktokClick = try click(tiktok.key, "ttclid=E.CP%2Fabc&adgroup_id=AG%201&campaign_id=CMP")
        #expect(try postback("clickid=\(tiktokClick)&payout=4.20&currency=usd&txid=o%261").json["status"] as? String == "recorded")
        let taboolaURL =
            ("https://trc.taboola.com/actions-handler/log/3/s2s-action?click-id={external_id}&name={event}&revenue={payout}"
            + "&currency={currency}&orderid={txid}")
            .replacingOccurrences(of: "https://trc.taboola.com", with: platform.url)
        let taboola = try setUp(template: "taboola", postback: ["enabled": true, "url": taboolaURL, "payout_percent": "50"])
        let taboolaClick = try click(taboola.key, "click_id=GiD-xyz_1&site=news")
        #expect(try postback("clickid=\(taboolaClick)&payout=10&event=purchase&txid=99").json["status"] as? String == "recorded")
        #expect(waitUntil(seconds: 15) { platform.requests.count >= 2 })
        let targets = Set(platform.requests.map(\.target))
        #expect(targets.contains("/tiktok?ttclid=E.CP%2Fabc&value=4.20&cur=USD&ev=conversion&ad=AG%201&tx=o%261&st=approved"))
        #expect(targets.contains("/actions-handler/log/3/s2s-action?click-id=GiD-xyz_1&name=purchase&revenue=5&currency=USD&orderid=99"))
        #expect(waitUntil(seconds: 5) { (try? deliveries(click: tiktokClick).first?.state) == "delivered" })
        // The journey page shows the postback received and the delivery with the platform's answer.
        let browser = TestBrowser()
        _ = try browser.login(tiktok.email, "correct-horse-42")
        let journey = try browser.get("/clicks/\(tiktokClick)").text
        #expect(journey.contains("E.CP/abc"))
        #expect(journey.contains("delivered"))
        #expect(journey.contains("recorded"))
    }

    @Test func retriesOn500ThenSucceedsAndGivesUpAfterTheLimit() throws {
        let tries = Mutex<[String: Int]>([:])
        let platform = try TestListener { request in
            let n = tries.withLock { t -> Int in
                t[request.target, default: 0] += 1
                return t[request.target]!
            }
            if request.target.contains("flaky") { return (n < 3 ? 500 : 200, "n=\(n)", 0) }
            return (503, "down", 0)
        }
        let flaky = try setUp(postback: ["enabled": true, "url": platform.url + "/flaky?c={clickid}"])
        let flakyClick = try click(flaky.key)
        _ = try postback("clickid=\(flakyClick)&payout=1")
        #expect(waitUntil(seconds: 20) { (try? deliveries(click: flakyClick).first?.state) == "delivered" })
        #expect(try deliveries(click: flakyClick).first?.attempts == 3)
        let recorded: Int = try database.query(
            """
            SELECT count(*)::int AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.click_id = \(flakyClick)
            """)[0].decode("n")
        #expect(recorded == 3)

        let down = try setUp(postback: ["enabled": true, "url": platform.url + "/down?c={clickid}"])
        let downClick = try click(down.key)
        _ = try postback("clickid=\(downClick)&payout=1")
        #expect(waitUntil(seconds: 20) { (try? deliveries(click: downClick).first?.state) == "failed" })
        #expect(try deliveries(click: downClick).first?.attempts == 3)
        // The Status page lists it with a Retry button, which queues it again.
        let browser = TestBrowser()
        _ = try browser.login(down.email, "correct-horse-42")
        let status = try browser.get("/status")
        #expect(status.text.contains(downClick))
        #expect(status.text.contains(#"id="postback-spool-bytes">0<"#))  // nothing waits: the database is up
        let deliveryID: Int = try database.query("SELECT id FROM deliveries WHERE click_id = \(downClick)")[0].decode("id")
        #expect(try browser.post("/deliveries/\(deliveryID)/retry", [("back", "/status")]).status == 303)
        #expect(waitUntil(seconds: 10) { (try? deliveries(click: downClick).first?.attempts) == 4 })
    }

    @Test func outboundCallsNeverReachMetadataAddresses() throws {
        let f = try setUp(postback: ["enabled": true, "url": "http://169.254.169.254/latest/meta-data/?c={clickid}"])
        let c = try click(f.key)
        _ = try postback("clickid=\(c)&payout=1")
        #expect(waitUntil(seconds: 10) { (try? deliveries(click: c).first?.state) == "failed" })
        #expect(try deliveries(click: c).first?.attempts == 1)  // refused at once, not retried
        let error: String = try database.query("SELECT last_error FROM deliveries WHERE click_id = \(c)")[0].decode("last_error")
        #expect(error.contains("address_denied"))
    }

    @Test func conversionEventsAreListedAndEdited() throws {
        let f = try setUp()
        let c = try click(f.key)
        _ = try postback("clickid=\(c)&payout=1&event=deposit")
        let browser = TestBrowser()
        _ = try browser.login(f.email, "correct-horse-42")
        let page = try browser.get("/events")
        #expect(page.text.contains("<code>deposit</code>"))
        let id: Int = try database.query("SELECT id FROM conversion_events WHERE workspace_id = \(f.workspaceID) AND key = 'deposit'")[0]
            .decode("id")
        #expect(try browser.post("/events", [("id", String(id)), ("name", "First deposit"), ("counts_as_conversion", "on")]).status == 303)
        let row = try database.query("SELECT name, counts_as_conversion, counts_as_revenue FROM conversion_events WHERE id = \(id)")[0]
        #expect(row["name"] == "First deposit")
        #expect(try row.decode("counts_as_conversion", as: Bool.self) == true)
        #expect(try row.decode("counts_as_revenue", as: Bool.self) == false)
    }

    @Test func webhooksAreSignedAndCarryTheDeliveryID() throws {
        let receiver = try TestListener()
        let f = try setUp()
        let browser = TestBrowser()
        _ = try browser.login(f.email, "correct-horse-42")
        #expect(try browser.get("/webhooks").status == 200)
        #expect(try browser.post("/webhooks", [("workspace_id", String(f.workspaceID)), ("url", receiver.url + "/hook")]).status == 303)
        let secret: String = try database.query("SELECT secret FROM webhooks WHERE workspace_id = \(f.workspaceID)")[0].decode("secret")
        let clickID = try click(f.key)
        _ = try postback("clickid=\(clickID)&payout=9.99&event=sale")
        #expect(waitUntil(seconds: 15) { receiver.requests.count >= 1 })
        let hook = try #require(receiver.requests.first)
        #expect(hook.method == "POST")
        let mac = HMAC<SHA256>.authenticationCode(for: Data(hook.body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        #expect(hook.headers["x-waymark-signature"] == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
        let deliveryID: Int = try database.query("SELECT id FROM deliveries WHERE click_id = \(clickID) AND kind = 'webhook'")[0].decode(
            "id")
        #expect(hook.headers["x-waymark-delivery"] == String(deliveryID))
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(hook.body.utf8)) as? [String: Any])
        #expect(payload["type"] as? String == "conversion.recorded")
        let conversion = try #require(payload["conversion"] as? [String: Any])
        #expect(conversion["click_id"] as? String == clickID)
        #expect(conversion["payout"] as? String == "9.99")
    }

    @Test func sendBackRulesChooseWhatIsReported() throws {
        let platform = try TestListener()
        let f = try setUp(postback: [
            "enabled": true, "url": platform.url + "/r?c={clickid}&s={status}&e={event}", "send": "approved",
            "events": ["sale"], "reversals": true,
        ])
        let c = try click(f.key)
        _ = try postback("clickid=\(c)&payout=1&event=lead")  // not a reported event
        _ = try postback("clickid=\(c)&payout=1&event=sale&status=pending")  // not approved
        _ = try postback("clickid=\(c)&payout=1&event=sale&status=approved")  // sent
        _ = try postback("clickid=\(c)&payout=1&event=sale&status=declined")  // reversal of a sent one
        #expect(waitUntil(seconds: 15) { platform.requests.count >= 2 })
        usleep(500_000)
        #expect(platform.requests.map(\.target).sorted() == ["/r?c=\(c)&s=approved&e=sale", "/r?c=\(c)&s=declined&e=sale"])
    }

    @Test func twoWorkersNeverSendTheSameDeliveryTwice() throws {
        let platform = try TestListener { _ in (200, "ok", 0.05) }
        let f = try setUp(postback: ["enabled": true, "url": platform.url + "/two?c={clickid}"])
        try withSecondWorker {
            var clicks: [String] = []
            for _ in 0..<30 { clicks.append(try click(f.key)) }
            for c in clicks { _ = try postback("clickid=\(c)&payout=1") }
            #expect(waitUntil(seconds: 30) { platform.requests.count >= 30 })
            usleep(1_000_000)
            let ids = platform.requests.compactMap { $0.headers["x-waymark-delivery"] }
            #expect(ids.count == 30)
            #expect(Set(ids).count == 30)
            let workers: Int = try database.query(
                """
                SELECT count(DISTINCT a.worker_id)::int AS n FROM delivery_attempts a JOIN deliveries d ON d.id = a.delivery_id
                WHERE d.click_id = ANY(\(clicks)::text[])
                """)[0].decode("n")
            #expect(workers >= 1)
        }
    }

    @Test func aKilledWorkerResumesWithoutLosingADelivery() throws {
        let calls = Mutex(0)
        // The first call hangs long enough for the test to kill the worker mid-call.
        let platform = try TestListener { _ in
            let n = calls.withLock { c -> Int in
                c += 1
                return c
            }
            return (200, "ok", n == 1 ? 5 : 0)
        }
        let f = try setUp(postback: ["enabled": true, "url": platform.url + "/kill?c={clickid}"])
        let c = try click(f.key)
        _ = try postback("clickid=\(c)&payout=1")
        #expect(waitUntil(seconds: 10) { platform.requests.count >= 1 })
        let pid = try #require(
            Int32(
                try String(contentsOfFile: TestEnvironment.varDirectory + "/run/worker.pid", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, SIGKILL) == 0)
        // The supervisor starts a new worker, which sends the delivery again (at least once).
        #expect(waitUntil(seconds: 30) { (try? deliveries(click: c).first?.state) == "delivered" })
        #expect(platform.requests.count >= 2)
        let ids = Set(platform.requests.compactMap { $0.headers["x-waymark-delivery"] })
        #expect(ids.count == 1)
    }

    @Test func thePixelAndThePostbackTester() throws {
        let platform = try TestListener()
        let f = try setUp(postback: ["enabled": true, "url": platform.url + "/px?c={clickid}&p={payout}"])
        let response = try tracking.get("/c/\(f.key)")
        let cookie = try #require(response.headers("set-cookie").first { $0.hasPrefix("wm_click=") })
        let clickID = String(cookie.dropFirst(9).prefix { $0 != ";" })
        let pixel = try tracking.get("/pixel.gif?payout=2.5&event=signup", headers: [("Cookie", "wm_click=\(clickID)")])
        #expect(pixel.status == 200)
        #expect(pixel.header("Content-Type") == "image/gif")
        #expect(pixel.body.count == 43)
        #expect(try conversions(click: clickID).map(\.event) == ["signup"])
        #expect(try tracking.get("/pixel.gif?payout=oops").status == 200)  // always a GIF
        // The tester makes a click, posts through the real endpoint, and shows the journey.
        let browser = TestBrowser()
        _ = try browser.login(f.email, "correct-horse-42")
        _ = try browser.get("/campaigns/\(f.campaignID)/tracking")
        let sent = try browser.post(
            "/campaigns/\(f.campaignID)/postback-test", [("payout", "3.30"), ("status", "approved"), ("event", "conversion")])
        #expect(sent.status == 303)
        let location = try #require(sent.header("Location"))
        #expect(location.hasPrefix("/clicks/"))
        let testClick = String(location.dropFirst(8))
        #expect(try conversions(click: testClick).map(\.payout) == ["3.300000"])
        let journey = try browser.get(location).text
        #expect(journey.contains("HTTP 200"))
        #expect(journey.contains("recorded"))
        #expect(waitUntil(seconds: 15) { platform.requests.contains { $0.target == "/px?c=\(testClick)&p=3.30" } })
    }
}
