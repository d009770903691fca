import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting

/// Postbacks and pixel hits through the real nginx while PostgreSQL is stopped: accepted, spooled,
/// and once it is back recorded exactly as the same postbacks are with the database up.
@Suite(.needsStack, .timeLimit(.minutes(5))) struct PostbackOutageIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP.tracking()
    static let secret = "s3cret-\(UInt32.random(in: 0...UInt32.max))"

    /// One step of the script: a postback's or a pixel's parameters, for click `click` of a set
    /// (nil: a click id no click has, `unknown`).
    struct Step {
        var pixel = false
        var click: Int?
        var unknown = 0
        var parameters: [(String, String)]
    }

    /// A campaign in a workspace with a postback secret; `count` clicks on it, twice (sets A and B).
    func setUp(count: Int) throws -> (a: [String], b: [String]) {
        let email = "outage-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let workspace = try api.postJSON("/api/v1/workspaces", ["name": "W \(uniqueSuffix())", "timezone": "UTC", "currency": "EUR"])
        let workspaceID = try #require(workspace.json["id"] as? Int)
        try database.query("UPDATE workspaces SET postback_secret = \(Self.secret) WHERE id = \(workspaceID)")
        let source = try api.postJSON(
            "/api/v1/traffic-sources", ["name": "S \(uniqueSuffix())", "workspace_id": workspaceID, "cost_currency": "USD"])
        let campaign = try api.postJSON(
            "/api/v1/campaigns",
            [
                "name": "C", "traffic_source_id": try #require(source.json["id"] as? Int),
                "destination_url": "https://offer.example/lp?s={clickid}",
            ])
        let key = try #require(campaign.json["key"] as? String)
        return (try (0..<count).map { _ in try click(key) }, try (0..<count).map { _ in try click(key) })
    }

    func click(_ key: String) throws -> String {
        let response = try tracking.get("/c/\(key)")
        #expect(response.status == 302)
        let location = try #require(response.header("Location"))
        return try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "s" }?.value)
    }

    /// 500 steps from a fixed seed: new conversions (with and without txid, several events,
    /// statuses and currencies), exact repeats, approved → declined, unknown click ids, wrong
    /// secrets and pixel hits.
    static func script(clicks: Int, steps: Int = 500) -> [Step] {
        var seed: UInt64 = 0x5EED_1905
        func next(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        var script: [Step] = []
        var approved: [Step] = []
        for n in 0..<steps {
            let roll = next(100)
            let click = next(clicks)
            if roll < 8 {
                script.append(Step(click: nil, unknown: n, parameters: [("payout", "1.00"), ("secret", secret)]))
            } else if roll < 16 {
                var parameters = [("event", "purchase"), ("payout", "2.50")]
                if next(2) == 0 { parameters.append(("txid", "px\(n % 7)")) }
                script.append(Step(pixel: true, click: click, parameters: parameters))
            } else if roll < 28, !script.isEmpty {
                script.append(script[next(script.count)])  // the same postback again
            } else if roll < 40, !approved.isEmpty {
                var step = approved.remove(at: next(approved.count))
                step.parameters = step.parameters.map { $0.0 == "status" ? ("status", "declined") : $0 }
                script.append(step)
            } else if roll < 44 {
                script.append(Step(click: click, parameters: [("payout", "9.00"), ("secret", next(2) == 0 ? "wrong" : "")]))
            } else {
                var parameters = [
                    ("payout", "\(next(50)).\(next(100))"), ("status", next(4) == 0 ? "pending" : "approved"),
                    ("event", ["conversion", "lead", "sale"][next(3)]), ("secret", secret),
                ]
                if next(5) < 2 { parameters.append(("txid", "tx\(n)")) }
                if next(4) == 0 { parameters.append(("currency", ["usd", "GBP"][next(2)])) }
                let step = Step(click: click, parameters: parameters)
                if parameters[1].1 == "approved" { approved.append(step) }
                script.append(step)
            }
        }
        return script
    }

    /// Sends the script for one set of clicks; returns each answer's status and JSON `status`.
    func send(_ script: [Step], clicks: [String], unknownPrefix: String) throws -> [(Int, String)] {
        try script.map { step in
            let clickID = step.click.map { clicks[$0] } ?? "\(unknownPrefix)-\(step.unknown)"
            let query = step.parameters.map { "\($0.0)=\(URLEncode($0.1))" }.joined(separator: "&")
            if step.pixel {
                let response = try tracking.get("/pixel.gif?" + query, headers: [("Cookie", "wm_click=\(clickID)")])
                return (response.status, response.header("Content-Type") ?? "")
            }
            let response = try tracking.get("/postback?clickid=\(URLEncode(clickID))&" + query)
            return (response.status, response.json["status"] as? String ?? response.text)
        }
    }

    func URLEncode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }

    /// A set's conversions, each named by its click's place in the set, in a fixed order.
    func conversions(_ clicks: [String]) throws -> [String] {
        let place = Dictionary(uniqueKeysWithValues: clicks.enumerated().map { ($1, $0) })
        return try database.query(
            """
            SELECT click_id, dedupe_key, status, payout::text AS payout, currency, event_key FROM conversions
            WHERE click_id = ANY(\(clicks)::text[])
            """
        ).map { row in
            let at = place[row["click_id"] ?? ""] ?? -1
            return [String(at), row["dedupe_key"], row["status"], row["payout"], row["currency"], row["event_key"]].map { $0 ?? "-" }
                .joined(separator: " ")
        }.sorted()
    }

    /// A set's ledger rows in the order they were written, clicks named by their place.
    func ledger(_ clicks: [String], unknownPrefix: String) throws -> [String] {
        let place = Dictionary(uniqueKeysWithValues: clicks.enumerated().map { ($1, "c\($0)") })
        return try database.query(
            """
            SELECT p.click_id, p.channel, p.outcome, p.status, p.payout::text AS payout, p.currency, p.event_key, p.txid, p.error,
                   c.dedupe_key, p.query
            FROM postbacks p LEFT JOIN conversions c ON c.id = p.conversion_id
            WHERE p.click_id = ANY(\(clicks)::text[]) OR p.click_id LIKE \(unknownPrefix + "-%")
            ORDER BY p.id
            """
        ).map { row in
            #expect(!(row["query"] ?? "").contains(Self.secret))
            let click = row["click_id"].map { place[$0] ?? $0.replacingOccurrences(of: unknownPrefix, with: "unknown") } ?? "-"
            let fields = ["channel", "outcome", "status", "payout", "currency", "event_key", "txid", "error", "dedupe_key"]
            return ([click] + fields.map { row[$0] ?? "-" }).joined(separator: " ")
        }
    }

    func health() -> [String: Any] { (try? TestHTTP().get("/healthz").json) ?? [:] }

    @Test func postbacksAnsweredWhilePostgreSQLIsDownAreRecordedAsTheyWouldHaveBeen() throws {
        let (a, b) = try setUp(count: 60)
        let script = Self.script(clicks: a.count)
        let (prefixA, prefixB) = ("nx\(uniqueSuffix())a", "nx\(uniqueSuffix())b")
        let live = try send(script, clicks: a, unknownPrefix: prefixA)
        #expect(live.allSatisfy { $0.0 < 500 })

        #expect(try TestEnvironment.script("postgres.sh", "stop") == 0)
        var restarted = false
        defer { if !restarted { _ = try? TestEnvironment.script("postgres.sh", "start") } }
        let spooled = try send(script, clicks: b, unknownPrefix: prefixB)
        for (step, answer) in zip(script, spooled) {
            #expect(answer == (step.pixel ? (200, "image/gif") : (202, "accepted")), "\(step.parameters)")
        }
        let bad = try tracking.get("/postback?clickid=\(b[0])&payout=-1")
        #expect(bad.status == 400 && bad.text.contains("payout"))  // still checked without the database
        let waiting = health()
        #expect((waiting["postback_spool_bytes"] as? Int ?? 0) > 0)
        #expect(waiting["database"] as? String == "unavailable")
        let back = Date()
        #expect(try TestEnvironment.script("postgres.sh", "start") == 0)
        restarted = true

        #expect(
            waitUntil(seconds: 60) {
                let h = health()
                return h["database"] as? String == "ok" && h["postback_spool_bytes"] as? Int == 0 && h["click_spool_bytes"] as? Int == 0
            })
        let (conversionsA, conversionsB) = (try conversions(a), try conversions(b))
        #expect(conversionsA.count > 50)
        #expect(conversionsB == conversionsA)
        // Replayed, they keep the time they arrived, not the replay's.
        let late = try database.query(
            """
            SELECT (SELECT count(*) FROM conversions WHERE click_id = ANY(\(b)::text[]) AND converted_at >= \(back))
                 + (SELECT count(*) FROM postbacks WHERE click_id = ANY(\(b)::text[]) AND received_at >= \(back)) AS n
            """
        ).first!.decode("n", as: Int64.self)
        #expect(late == 0)
        let (ledgerA, ledgerB) = (try ledger(a, unknownPrefix: prefixA), try ledger(b, unknownPrefix: prefixB))
        #expect(ledgerA.count == script.count)
        for outcome in ["recorded", "duplicate", "updated", "unattributed", "forbidden"] {
            #expect(ledgerA.contains { $0.contains(" \(outcome) ") }, "no \(outcome) in the script's ledger")
        }
        #expect(ledgerA.contains { $0.contains(" pixel ") })
        #expect(ledgerB == ledgerA)
        for (x, y) in zip(ledgerA, ledgerB) where x != y {
            Issue.record("first ledger difference: \(x) ≠ \(y)")
            break
        }
    }
}
