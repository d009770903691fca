import Accounts
import Catalog
import Conversions
import Foundation
import HTTPClient
import Postgres
import Synchronization
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Spend feeds through nginx, PostgreSQL and the worker, against a local HTTP server standing
/// in for a push network's CSV link and a JSON stats endpoint.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct SpendFeedIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP.tracking()

    static func day(_ offset: Int) -> String {
        String(ISO8601DateFormatter().string(from: Date().addingTimeInterval(Double(offset) * 86400)).prefix(10))
    }
    let today = SpendFeedIntegrationTests.day(0)
    let yesterday = SpendFeedIntegrationTests.day(-1)

    struct Setup {
        var api: TestHTTP
        var email: String
        var workspace: Int
        var source: Int
        var campaign: Int
        var key: String
    }

    /// A push network source (parameters `zone`, `net_campaign`) with one CPC campaign.
    func setUp() throws -> Setup {
        let email = "feed-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        _ = try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let workspace = try #require(
            try api.postJSON("/api/v1/workspaces", ["name": "F \(uniqueSuffix())", "timezone": "UTC", "currency": "USD"]).json["id"] as? Int
        )
        let source = try #require(
            try api.postJSON(
                "/api/v1/traffic-sources",
                [
                    "name": "Push network \(uniqueSuffix())", "workspace_id": workspace, "cost_currency": "USD",
                    "parameters": [["name": "zone", "token": "{zone}"], ["name": "net_campaign", "token": "{campaign}"]],
                ]
            ).json["id"] as? Int)
        let campaign = try api.postJSON(
            "/api/v1/campaigns",
            [
                "name": "Push C", "traffic_source_id": source, "destination_url": "https://offer.example/?c={clickid}",
                "cost_model": ["type": "cpc", "amount": "0.01"],
            ]
        ).json
        return Setup(
            api: api, email: email, workspace: workspace, source: source, campaign: try #require(campaign["id"] as? Int),
            key: try #require(campaign["key"] as? String))
    }

    func feed(_ s: Setup, url: String, format: String = "csv", extra: [String: Any] = [:]) throws -> [String: Any] {
        var body: [String: Any] = [
            "name": "Daily cost \(uniqueSuffix())", "url": url, "format": format, "lookback_days": 1, "schedule": ["daily_at": "06:00"],
            "mapping": [
                "date": "Day", "campaign": "Campaign", "campaign_match": "key", "amount": "Spend, USD", "currency": "Currency",
                "dimensions": ["zone": "Zone"],
            ],
        ]
        body.merge(extra) { _, b in b }
        let r = try s.api.postJSON("/api/v1/traffic-sources/\(s.source)/spend-feeds", body)
        #expect(r.status == 201, "\(r.text)")
        return r.json
    }

    func entries(_ source: Int) throws -> [String: String] {
        var out: [String: String] = [:]
        for r in try database.query(
            """
            SELECT day::text AS day, coalesce(campaign_id, 0) AS c, dimensions::text AS dim, amount::text AS amount, origin, feed_id
            FROM spend_entries WHERE traffic_source_id = \(source) ORDER BY 1, 2, 3
            """)
        {
            out["\(r["day"] ?? "")|\(r["c"] ?? "")|\(r["dim"] ?? "")"] = "\(r["amount"] ?? "") \(r["origin"] ?? "") \(r["feed_id"] ?? "-")"
        }
        return out
    }

    @Test func aCSVFeedPreviewsThenImportsAndARerunReplaces() throws {
        let s = try setUp()
        let amount = Mutex("12.50")
        let listener = try TestListener { received in
            guard received.target.hasPrefix("/daily.csv") else { return (404, "no", 0) }
            // BOM, CRLF, a quoted header with a comma, quoted fields, an empty line.
            let csv =
                "\u{FEFF}Day,Campaign,\"Spend, USD\",Currency,Zone\r\n"
                + "\(yesterday),\(s.key),\"\(amount.withLock { $0 })\",USD,\"z-1, top\"\r\n\r\n"
                + "\(today),\(s.key),3,usd,z-2\r\n"
            return (200, csv, 0)
        }
        let created = try feed(
            s, url: listener.url + "/daily.csv?from={from}&to={to}", extra: ["headers": ["Authorization": "Bearer FEED-SECRET-1"]])
        let id = try #require(created["id"] as? Int)
        #expect(created["headers"] as? [[String: String]] == [["Authorization": "(stored)"]])
        let sealed = try database.query("SELECT headers_sealed FROM spend_feeds WHERE id = \(id)")[0]["headers_sealed"] ?? ""
        #expect(!sealed.isEmpty && !sealed.contains("FEED-SECRET"))

        // Preview: the mapped rows, nothing stored.
        let preview = try s.api.postJSON("/api/v1/traffic-sources/\(s.source)/spend-feeds/\(id)/preview", [String: Any]()).json
        #expect(preview["status"] as? String == "success", "\(preview)")
        #expect((preview["rows"] as? [[String: Any]])?.count == 2)
        #expect(try entries(s.source).isEmpty)
        #expect(listener.requests.first?.headers["authorization"] == "Bearer FEED-SECRET-1")
        #expect(listener.requests.first?.target == "/daily.csv?from=\(yesterday)&to=\(today)")

        let run = try s.api.postJSON("/api/v1/traffic-sources/\(s.source)/spend-feeds/\(id)/run", [String: Any]()).json
        #expect(run["status"] as? String == "success" && run["rows_imported"] as? Int == 2, "\(run)")
        let first = try entries(s.source)
        #expect(first["\(yesterday)|\(s.campaign)|{\"zone\": \"z-1, top\"}"] == "12.500000 feed \(id)", "\(first)")
        #expect(first["\(today)|\(s.campaign)|{\"zone\": \"z-2\"}"] == "3.000000 feed \(id)", "\(first)")

        // The network revises yesterday: the re-run replaces, never adds.
        amount.withLock { $0 = "14.75" }
        #expect(
            try s.api.postJSON("/api/v1/traffic-sources/\(s.source)/spend-feeds/\(id)/run", [String: Any]()).json["status"] as? String
                == "success")
        let second = try entries(s.source)
        #expect(second.count == 2)
        #expect(second["\(yesterday)|\(s.campaign)|{\"zone\": \"z-1, top\"}"] == "14.750000 feed \(id)", "\(second)")

        // Reports show the imported cost beside the clicks (it replaces the CPC model cost).
        #expect(try tracking.get("/c/\(s.key)?zone=z-2").status == 302)
        let report = try s.api.get(
            ("/api/v1/reports?from=\(yesterday)&to=\(today)&tz=UTC&group_by=campaign&workspace_id=\(s.workspace)"
                + "&traffic_source_id=\(s.source)")
        ).json
        let totals = try #require(report["totals"] as? [String: Any])
        #expect(totals["cost"] as? String == "17.7500", "\(totals)")
        #expect(totals["clicks"] as? Int == 1)
        let runs = try #require(
            try s.api.get("/api/v1/traffic-sources/\(s.source)/spend-feeds/\(id)/runs").json["data"] as? [[String: Any]])
        #expect(runs.map { $0["trigger"] as? String ?? "" } == ["manual", "manual", "preview"])
        #expect(runs.first?["rows_imported"] as? Int == 2)
    }

    @Test func jsonFeedsInTwoShapesMapCampaignsByKeyAndByParameter() throws {
        let s = try setUp()
        // The network's own campaign id travels in the clicks' net_campaign parameter.
        #expect(try tracking.get("/c/\(s.key)?net_campaign=NC-7").status == 302)
        let listener = try TestListener { received in
            if received.target.hasPrefix("/nested") {
                return (
                    200,
                    ("{\"status\":\"ok\",\"data\":{\"rows\":[{\"date\":\"\(today.replacingOccurrences(of: "-", with: ""))\","
                        + "\"cid\":\"NC-7\",\"cost\":3.5,\"cur\":\"EUR\"}]}}"),
                    0
                )
            }
            return (
                200,
                ("[{\"d\":\"\(yesterday)\",\"campaign\":\"\(s.key)\",\"spend\":\"1.25\"},{\"d\":\"\(SpendFeedIntegrationTests.day(-2)) "
                    + "00:00:00\",\"campaign\":\"\(s.key)\",\"spend\":0}]"),
                0
            )
        }
        try database.query("INSERT INTO fx_rates (currency, day, rate) VALUES ('USD', \(yesterday)::date - 30, 1.1) ON CONFLICT DO NOTHING")
        let nested = try feed(
            s, url: listener.url + "/nested?day={date}", format: "json",
            extra: [
                "json_path": "data.rows", "date_format": "yyyyMMdd",
                "mapping": [
                    "date": "date", "campaign": "cid", "campaign_match": "param:net_campaign", "amount": "cost", "currency": "cur",
                ],
            ])
        let array = try feed(
            s, url: listener.url + "/array", format: "json",
            extra: [
                "mapping": ["date": "d", "campaign": "campaign", "campaign_match": "key", "amount": "spend", "fixed_currency": "USD"]
            ])
        for f in [nested, array] {
            let run = try s.api.postJSON(
                "/api/v1/traffic-sources/\(s.source)/spend-feeds/\(try #require(f["id"] as? Int))/run", [String: Any]()
            ).json
            #expect(run["status"] as? String == "success", "\(run)")
        }
        // {date} makes one fetch a day of the window.
        #expect(
            listener.requests.filter { $0.target.hasPrefix("/nested") }.map(\.target).sorted()
                == [
                    "/nested?day=\(yesterday.replacingOccurrences(of: "-", with: ""))",
                    "/nested?day=\(today.replacingOccurrences(of: "-", with: ""))",
                ])
        let stored = try entries(s.source)
        #expect(stored.count == 3, "\(stored)")
        #expect(stored.values.contains { $0.hasPrefix("3.500000 feed") })
        #expect(stored["\(yesterday)|\(s.campaign)|{}"]?.hasPrefix("1.250000 feed") == true, "\(stored)")
    }

    @Test func failedRunsChangeNothingAndAFeedThatKeepsFailingIsPaused() throws {
        let s = try setUp()
        let mode = Mutex("good")
        let listener = try TestListener { _ in
            switch mode.withLock({ $0 }) {
            case "500": return (500, "oops", 0)
            case "malformed": return (200, "Day,Campaign\n\"unterminated", 0)
            case "slow": return (200, "Day,Campaign,\"Spend, USD\",Currency,Zone\n", 3)
            case "unknown":
                return (
                    200, "Day,Campaign,\"Spend, USD\",Currency,Zone\n\(today),no-such-campaign,5,USD,z\n\(today),\(s.key),-2,USD,z\n", 0
                )
            default: return (200, "Day,Campaign,\"Spend, USD\",Currency,Zone\n\(today),\(s.key),9.99,USD,z\n", 0)
            }
        }
        let id = try #require(try feed(s, url: listener.url + "/cost.csv", extra: ["timeout_seconds": 1, "max_failures": 4])["id"] as? Int)
        let path = "/api/v1/traffic-sources/\(s.source)/spend-feeds/\(id)"
        #expect(try s.api.postJSON(path + "/run", [String: Any]()).json["status"] as? String == "success")
        let before = try entries(s.source)
        #expect(before.count == 1)
        for (m, expected) in [("500", "HTTP 500"), ("malformed", ""), ("slow", "timeout"), ("unknown", "rejected")] {
            mode.withLock { $0 = m }
            let run = try s.api.postJSON(path + "/run", [String: Any]()).json
            #expect(run["status"] as? String == "failed", "\(m): \(run)")
            #expect(expected.isEmpty || (run["error"] as? String ?? "").contains(expected), "\(m): \(run)")
            #expect(try entries(s.source) == before, "\(m) changed the stored spend")
            if m == "unknown" {
                let rejected = run["rejected"] as? [[String: Any]] ?? []
                #expect(rejected.map { "\($0["row"] ?? ""):\($0["field"] ?? "")" }.sorted() == ["1:campaign", "2:amount"], "\(rejected)")
            }
        }
        let paused = try s.api.get(path).json
        #expect(paused["status"] as? String == "paused", "\(paused)")
        #expect((paused["paused_reason"] as? String ?? "").contains("paused after 4 failed runs"), "\(paused)")
        #expect(paused["consecutive_failures"] as? Int == 4)
        // The Status page lists it with the reason.
        let browser = TestBrowser()
        _ = try browser.login(s.email, "correct-horse-42")
        let status = try browser.get("/status").text
        #expect(status.contains(paused["name"] as? String ?? "?") && status.contains("paused after 4 failed runs"))
    }

    @Test func theScheduleFires() throws {
        let s = try setUp()
        let listener = try TestListener { _ in (200, "Day,Campaign,\"Spend, USD\",Currency,Zone\n\(today),\(s.key),2,USD,z\n", 0) }
        // Every hour: the first scheduled run is due at once; the worker runs it.
        let id = try #require(try feed(s, url: listener.url + "/hourly.csv", extra: ["schedule": ["every_hours": 1]])["id"] as? Int)
        let path = "/api/v1/traffic-sources/\(s.source)/spend-feeds/\(id)"
        #expect(
            waitUntil(seconds: 20) {
                ((try? s.api.get(path + "/runs").json["data"] as? [[String: Any]]) ?? []).contains {
                    $0["trigger"] as? String == "schedule" && $0["status"] as? String == "success"
                }
            })
        let next = try #require(ISO8601DateFormatter().date(from: try s.api.get(path).json["next_run_at"] as? String ?? ""))
        #expect(next > Date().addingTimeInterval(50 * 60), "the next run is an hour on")
        #expect(try entries(s.source).values.contains { $0.hasPrefix("2.000000 feed") })
        // Bad input is refused with every bad field, nothing stored.
        let bad = try s.api.postJSON(
            "/api/v1/traffic-sources/\(s.source)/spend-feeds",
            [
                "name": "", "url": "ftp://x", "format": "xml", "schedule": ["every_hours": 0],
                "mapping": ["campaign_match": "title", "amount": ""],
            ])
        #expect(bad.status == 422)
        let fields = Set(((bad.json["error"] as? [String: Any])?["fields"] as? [String: String] ?? [:]).keys)
        #expect(
            fields.isSuperset(of: [
                "name", "url", "format", "schedule.every_hours", "mapping.campaign_match", "mapping.amount", "mapping.currency",
            ]), "\(fields)")
    }

    /// Two workers (the stack's and one more) and a Run now asked for while the scheduled run is
    /// under way: the feed is run by one worker at a time (the lease), the Run now right after.
    @Test func aFeedRunsOnceAtATimeWithTwoWorkers() throws {
        let s = try setUp()
        let listener = try TestListener { _ in (200, "Day,Campaign,\"Spend, USD\",Currency,Zone\n\(today),\(s.key),3,USD,z\n", 1.5) }
        try withSecondWorker {
            let id = try #require(try feed(s, url: listener.url + "/slow.csv", extra: ["schedule": ["every_hours": 1]])["id"] as? Int)
            #expect(waitUntil(seconds: 20) { listener.requests.count >= 1 })
            // While the scheduled run waits for the slow answer (the request waits a while for its run).
            _ = try s.api.postJSON("/api/v1/traffic-sources/\(s.source)/spend-feeds/\(id)/run", [:])
            func finished() throws -> [[String: String]] {
                try database.query(
                    """
                    SELECT trigger, started_at::text AS s, finished_at::text AS f FROM spend_feed_runs
                    WHERE feed_id = \(id) AND trigger <> 'preview' AND finished_at IS NOT NULL ORDER BY id
                    """
                ).map { ["trigger": $0["trigger"] ?? "", "s": $0["s"] ?? "", "f": $0["f"] ?? ""] }
            }
            #expect(waitUntil(seconds: 30) { ((try? finished()) ?? []).map { $0["trigger"] ?? "" }.sorted() == ["manual", "schedule"] })
            usleep(3_000_000)
            let runs = try finished()
            #expect(runs.count == 2, "\(runs)")
            #expect(listener.requests.count == runs.count, "one fetch per run: \(listener.requests.count) for \(runs.count) runs")
            let overlapping: Int = try database.query(
                """
                SELECT count(*)::int AS n FROM spend_feed_runs a JOIN spend_feed_runs b
                  ON a.feed_id = b.feed_id AND a.id < b.id AND b.started_at < a.finished_at AND a.started_at < b.finished_at
                WHERE a.feed_id = \(id) AND a.trigger <> 'preview' AND b.trigger <> 'preview'
                """)[0].decode("n")
            #expect(overlapping == 0, "\(runs)")
            #expect(try entries(s.source).values.filter { $0.hasPrefix("3.000000 feed") }.count == 1)
        }
    }

    /// The Spend feeds tab in the browser: create a feed by the form, preview it, run it.
    @Test func theSpendFeedsTabCreatesPreviewsAndRunsAFeed() throws {
        let s = try setUp()
        let listener = try TestListener { _ in (200, "Day,Campaign,\"Spend, USD\",Currency,Zone\n\(today),\(s.key),4.20,USD,z\n", 0) }
        let browser = TestBrowser()
        _ = try browser.login(s.email, "correct-horse-42")
        let tab = try browser.get("/traffic-sources/\(s.source)/spend-feeds")
        #expect(tab.status == 200 && tab.text.contains("New feed") && tab.text.contains("Spend feeds"))
        // A bad form keeps the values and names the fields.
        let bad = try browser.post("/traffic-sources/\(s.source)/spend-feeds", [("name", "Push CSV"), ("url", "nope"), ("format", "csv")])
        #expect(bad.status == 422 && bad.text.contains("url must be an absolute http(s) URL") && bad.text.contains("Push CSV"))
        _ = try browser.get("/traffic-sources/\(s.source)/spend-feeds")
        let created = try browser.post(
            "/traffic-sources/\(s.source)/spend-feeds",
            [
                ("name", "Push CSV"), ("url", listener.url + "/cost.csv?d={date}"), ("method", "GET"), ("headers", "X-Api-Key: K-123"),
                ("format", "csv"), ("json_path", ""), ("date_format", "yyyy-MM-dd"), ("time_zone", "UTC"),
                ("map_date", "Day"), ("map_campaign", "Campaign"), ("map_campaign_match", "key"), ("map_amount", "Spend, USD"),
                ("map_currency", "Currency"),
                ("map_fixed_currency", ""), ("map_dimensions", "zone=Zone"), ("schedule", "daily"), ("every_hours", "24"),
                ("daily_at", "07:30"),
                ("lookback_days", "0"), ("timeout_seconds", "10"), ("max_failures", "5"),
            ])
        #expect(created.status == 303, "\(created.text.prefix(500))")
        let location = try #require(created.header("location"))
        let page = try browser.get(location)
        #expect(page.text.contains("Run history") && page.text.contains("X-Api-Key (values hidden)") && !page.text.contains("K-123"))
        let preview = try browser.post(location + "/preview", [])
        #expect(
            preview.status == 200 && preview.text.contains("nothing stored") && preview.text.contains("4.20"), "\(preview.text.prefix(300))"
        )
        #expect(try entries(s.source).isEmpty)
        _ = try browser.get(location)
        let run = try browser.post(location + "/run", [])
        #expect(run.status == 303)
        #expect(try entries(s.source).values.contains { $0.hasPrefix("4.200000 feed") })
        #expect(listener.requests.allSatisfy { $0.headers["x-api-key"] == "K-123" })
        let after = try browser.get(location).text
        #expect(after.contains("manual") && after.contains("success"))
    }
}
