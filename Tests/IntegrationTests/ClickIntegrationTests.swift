import Accounts
import Foundation
import Glibc
import HTTPClient
import Postgres
import Synchronization
import Testing
import Tracking
import Waymark
import WaymarkCore
import WaymarkTesting

/// The click redirect through the real nginx and PostgreSQL: durability, outage, crash.
@Suite(.needsStack, .timeLimit(.minutes(5))) struct ClickIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    /// An admin's API client and a campaign on a Facebook-template source.
    func setUp(destination: String = "https://offer.example/lp?s={clickid}&ad={ad_id}", status: String = "active", fallback: String? = nil)
        throws -> (api: TestHTTP, id: Int, key: String)
    {
        let email = "clicks-\(uniqueSuffix())@example.test"
        let store = UserStore(database: database)
        try store.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        let sourceID = try #require(try api.postJSON("/api/v1/traffic-sources", ["template": "facebook", "name": "FB"]).json["id"] as? Int)
        var body: [String: Any] = [
            "name": "c", "traffic_source_id": sourceID, "destination_url": destination, "status": status,
            "cost_model": ["type": "cpc", "amount": "0.20"],
        ]
        if let fallback { body["fallback_url"] = fallback }
        let campaign = try api.postJSON("/api/v1/campaigns", body).json
        return (api, try #require(campaign["id"] as? Int), try #require(campaign["key"] as? String))
    }

    func clickCount(campaign: Int) throws -> Int {
        try database.query("SELECT count(*)::int AS n FROM clicks WHERE campaign_id = \(campaign)").first!.decode("n")
    }

    /// The click id a 302 carried in its Location (`s=` of the destinations used here).
    func clickID(_ response: HTTPResponse) -> String? {
        guard response.status == 302, let location = response.header("Location"), let components = URLComponents(string: location) else {
            return nil
        }
        return components.queryItems?.first { $0.name == "s" }?.value
    }

    /// Sends `count` clicks from `threads` threads; returns the click ids of the 302s.
    func clicks(_ key: String, count: Int, threads: Int = 16, base: String = TestEnvironment.httpURL) -> (ids: [String], failures: Int) {
        let ids = Mutex<[String]>([])
        let failures = Mutex(0)
        let next = Mutex(0)
        let group = DispatchGroup()
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let http = TestHTTP(base: base)
                while true {
                    let n = next.withLock { v -> Int in
                        v += 1
                        return v
                    }
                    if n > count { return }
                    let response = try? http.get("/c/\(key)?ad_id=ad\(n)&campaign_id=77")
                    if let response, let id = clickID(response) { ids.withLock { $0.append(id) } } else { failures.withLock { $0 += 1 } }
                }
            }
        }
        group.wait()
        return (ids.withLock { $0 }, failures.withLock { $0 })
    }

    func storedIDs(_ ids: [String]) throws -> Set<String> {
        Set(try database.query("SELECT id FROM clicks WHERE id = ANY(\(ids)::text[])").map { try $0.decode("id", as: String.self) })
    }

    @Test func aClickRedirectsAndIsStoredWithItsFields() throws {
        let (_, id, key) = try setUp()
        let response = try TestHTTP(base: TestEnvironment.httpURL).get(
            "/c/\(key)?campaign_id=123&ad_id=a%20b&fbclid=FB.1&utm_term=x",
            headers: [
                ("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"),
                ("Referer", "https://news.example/a"),
            ])
        #expect(response.status == 302)
        #expect(response.header("Cache-Control") == "no-store")
        let stored = try #require(clickID(response))
        #expect(response.header("Location") == "https://offer.example/lp?s=\(stored)&ad=a%20b")
        #expect(response.headers("set-cookie").contains { $0.hasPrefix("wm_click=\(stored);") })
        let row = try #require(
            try database.query(
                """
                SELECT campaign_id, cost::text AS cost, external_id, p1, p3, extra::text AS extra, referrer, device, os, is_bot,
                is_unique, ip,
                       clicked_at FROM clicks WHERE id = \(stored)
                """
            ).first)
        #expect(try row.decode("campaign_id", as: Int.self) == id)
        #expect(row["cost"] == "0.200000")
        #expect(row["external_id"] == "FB.1")
        #expect(row["p1"] == "123" && row["p3"] == "a b")
        #expect(row["extra"] == #"{"utm_term": "x"}"#)
        #expect(row["referrer"] == "https://news.example/a")
        #expect(row["device"] == "mobile" && row["os"] == "iOS")
        #expect(row["is_bot"] == "f" && row["is_unique"] == "t" && row["ip"] == "127.0.0.1")
        // The id's time prefix points at the row's day.
        let at = try row.decode("clicked_at", as: Date.self)
        #expect(abs(ClickID.time(of: stored)!.timeIntervalSince1970 - at.timeIntervalSince1970) < 1.001)
        // HTTPS works the same.
        #expect(try TestHTTP().get("/c/\(key)").status == 302)
    }

    @Test func unknownKeysArePausedCampaignsFallBackAndNothingIsCounted() throws {
        #expect(try TestHTTP(base: TestEnvironment.httpURL).get("/c/NoSuchKey123").status == 404)
        let withFallback = try setUp(status: "paused", fallback: "https://fallback.example/")
        let paused = try TestHTTP(base: TestEnvironment.httpURL).get("/c/\(withFallback.key)")
        #expect(paused.status == 302)
        #expect(paused.header("Location") == "https://fallback.example/")
        let without = try setUp(status: "paused")
        #expect(try TestHTTP(base: TestEnvironment.httpURL).get("/c/\(without.key)").status == 404)
        #expect(try clickCount(campaign: withFallback.id) == 0 && clickCount(campaign: without.id) == 0)
    }

    @Test func botsAreFlaggedAndStillRedirected() throws {
        let (_, _, key) = try setUp()
        let response = try TestHTTP(base: TestEnvironment.httpURL).get(
            "/c/\(key)", headers: [("User-Agent", "Googlebot/2.1 (+http://www.google.com/bot.html)")])
        #expect(response.status == 302)
        let id = try #require(clickID(response))
        #expect(try database.query("SELECT is_bot FROM clicks WHERE id = \(id)").first?["is_bot"] == "t")
    }

    @Test func fiveHundredConcurrentClicksAreAllStoredOnce() throws {
        let (_, id, key) = try setUp()
        let result = clicks(key, count: 500, threads: 50)
        #expect(result.failures == 0)
        #expect(result.ids.count == 500 && Set(result.ids).count == 500)
        #expect(try storedIDs(result.ids).count == 500)
        #expect(try clickCount(campaign: id) == 500)
    }

    /// The writer's first try has no ON CONFLICT: a batch that meets a click already stored
    /// (resent by nginx to the other responder, or spooled after a commit whose answer was lost)
    /// is tried again skipping it, and each click is one row with its parameter slots.
    @Test func aBatchMeetingAStoredClickStoresEachOnce() throws {
        let (_, id, _) = try setUp()
        let sourceID: Int = try database.query("SELECT traffic_source_id::int AS s FROM campaigns WHERE id = \(id)").first!.decode("s")
        func click(_ slots: [String: String]) throws -> Click {
            let object: [String: Any] = [
                "id": "dup-" + uniqueSuffix(), "clickedAt": Date().timeIntervalSinceReferenceDate, "campaignID": id,
                "trafficSourceID": sourceID, "ip": "198.51.100.9", "userAgent": "ua", "referrer": "", "cost": "0.2", "isBot": false,
                "isUnique": true, "country": "", "device": "", "os": "", "browser": "", "destination": "https://offer.example/",
                "slots": slots, "extra": [String: String](),
            ]
            return try JSONDecoder().decode(Click.self, from: JSONSerialization.data(withJSONObject: object))
        }
        let first = try click(["2": "two"])
        let second = try click(["1": "one", "3": "three"])
        let store = ClickInsertStore(conninfo: TestEnvironment.databaseURL)
        let partitions = try PostgresConnection(conninfo: TestEnvironment.databaseURL)
        try ClickPartitionStore.ensure(days: [Int(first.clickedAt.timeIntervalSince1970 / 86400)], on: partitions)
        try store.insert([first])
        try store.insert([first, second])
        try store.insert([second])
        let rows = try database.query(
            "SELECT id, p1, p2, p3 FROM clicks WHERE id IN (\(first.id), \(second.id)) ORDER BY p2 NULLS LAST")
        try #require(rows.count == 2)
        #expect(rows.first?["id"] == first.id && rows.first?["p2"] == "two" && rows.first?["p1"] == nil)
        #expect(rows[1]["id"] == second.id && rows[1]["p1"] == "one" && rows[1]["p3"] == "three")
    }

    @Test func theAPIRecordsAClickLikeTheRedirect() throws {
        let (api, id, key) = try setUp()
        let response = try api.postJSON(
            "/api/v1/clicks",
            [
                "campaign_key": key, "parameters": ["ad_id": "srv", "fbclid": "F2"], "ip": "198.51.100.9",
                "user_agent": "Mozilla/5.0 (Windows NT 10.0)",
            ])
        #expect(response.status == 201)
        let stored = try #require(response.json["click_id"] as? String)
        #expect(response.json["redirect_url"] as? String == "https://offer.example/lp?s=\(stored)&ad=srv")
        let row = try #require(try database.query("SELECT campaign_id, ip, external_id FROM clicks WHERE id = \(stored)").first)
        #expect(try row.decode("campaign_id", as: Int.self) == id && row["ip"] == "198.51.100.9" && row["external_id"] == "F2")
        #expect(try api.postJSON("/api/v1/clicks", ["campaign_key": "nope"]).status == 404)
        #expect(try api.postJSON("/api/v1/clicks", ["parameters": "x"]).status == 422)
    }

    @Test func clicksAnsweredWhilePostgreSQLIsDownAreStoredWhenItIsBack() throws {
        let (_, id, key) = try setUp()
        #expect(try TestHTTP(base: TestEnvironment.httpURL).get("/c/\(key)").status == 302)  // the campaign is now in memory
        #expect(try TestEnvironment.script("postgres.sh", "stop") == 0)
        var restarted = false
        defer { if !restarted { _ = try? TestEnvironment.script("postgres.sh", "start") } }
        let result = clicks(key, count: 1000)
        #expect(result.failures == 0)
        #expect(result.ids.count == 1000)
        let health = try TestHTTP().get("/healthz")
        #expect(health.status == 503)
        #expect((health.json["click_spool_bytes"] as? Int ?? 0) > 0)
        #expect(try TestEnvironment.script("postgres.sh", "start") == 0)
        restarted = true
        #expect(waitUntil(seconds: 30) { ((try? TestHTTP().get("/healthz").json["click_spool_bytes"] as? Int) ?? -1) == 0 })
        #expect(try storedIDs(result.ids).count == 1000)
        #expect(try clickCount(campaign: id) == 1001)
    }

    @Test func everyClickAnsweredBeforeTheResponderIsKilledIsStored() throws {
        let (_, _, key) = try setUp()
        let run = TestEnvironment.whileKillingTheResponder { http, n in
            (try? http.send("GET", "/c/\(key)?ad_id=k\(n)", timeout: 5)).flatMap(clickID)
        }
        #expect(run.killed && run.restarted)
        #expect(run.answers.count > 50)
        #expect(try storedIDs(run.answers).count == Set(run.answers).count)
    }
}

/// The worker's click partition upkeep: days ahead are made, days past the retention dropped.
@Suite(.needsStack, .timeLimit(.minutes(5))) struct ClickPartitionIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 1)

    func partitionExists(_ name: String) throws -> Bool {
        try database.query("SELECT to_regclass(\(name)) IS NOT NULL AS e")[0].decode("e")
    }

    @Test func aWorkerDropsPartitionsPastTheRetention() throws {
        try database.query("SELECT waymark_ensure_click_partition(date '2020-01-02')")
        #expect(try partitionExists("clicks_20200102"))
        let worker = try startProgram(
            FileManager.default.currentDirectoryPath + "/.build/release/waymark", ["worker"],
            environment: ["WAYMARK_VAR": TestEnvironment.varDirectory, "WAYMARK_CLICK_RETENTION_DAYS": "60"])
        defer {
            kill(worker, SIGTERM)
            var status: Int32 = 0
            waitpid(worker, &status, 0)
        }
        #expect(waitUntil(seconds: 20) { (try? partitionExists("clicks_20200102")) == false })
        let ahead = Calendar(identifier: .gregorian).date(byAdding: .day, value: 6, to: Date())!
        let name = "clicks_" + String(RFC3339Day.string(ahead).replacingOccurrences(of: "-", with: ""))
        #expect(try partitionExists(name))
    }
}

enum RFC3339Day {
    static func string(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }
}
