import Accounts
import Foundation
import Glibc
import HTTPClient
import Postgres
import Synchronization
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Clicks routed through a flow (SPEC §9) and lander click-throughs (`/click`, SPEC §3), through
/// the real nginx and PostgreSQL.
@Suite(.needsStack, .timeLimit(.minutes(5))) struct FlowRoutingIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    static let iPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
    static let desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36"

    struct Setup {
        var api: TestHTTP
        var offers: [Int]
        var landers: [Int]
        var flow: Int
        var campaign: Int
        var key: String
    }

    func admin() throws -> TestHTTP {
        let email = "flows-\(uniqueSuffix())@example.test"
        let store = UserStore(database: database)
        try store.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        return api
    }

    func create(_ api: TestHTTP, _ path: String, _ body: [String: Any]) throws -> Int {
        let r = try api.postJSON(path, body)
        #expect(r.status == 201, "\(path): \(r.text)")
        return try #require(r.json["id"] as? Int)
    }

    /// Offer A (3.00 USD) and B (2.50 EUR, daily cap `cap`), landers L1 and L2, and a flow:
    /// `promo=vip` straight to A; mobile to L1; everything else a 50/50 test of L1 and L2 with
    /// A and B behind them.
    func setUp(cap: Int? = nil, fallback: String? = "https://fallback.example/") throws -> Setup {
        let api = try admin()
        let a = try create(
            api, "/api/v1/offers",
            ["name": "A", "url": "https://a.example/?s={clickid}&o={offer_id}&l={lander_id}&ad={ad_id}", "payout": "3.00"])
        var bBody: [String: Any] = ["name": "B", "url": "https://b.example/?s={clickid}&o={offer_id}", "payout": "2.50", "currency": "EUR"]
        if let cap { bBody["daily_cap"] = cap }
        let b = try create(api, "/api/v1/offers", bBody)
        let l1 = try create(
            api, "/api/v1/landers", ["name": "L1", "url": "https://l1.example/?c={clickid}&l={lander_id}", "offers_count": 2])
        let l2 = try create(api, "/api/v1/landers", ["name": "L2", "url": "https://l2.example/?c={clickid}", "offers_count": 2])
        let flow = try create(api, "/api/v1/flows", ["name": "Test flow", "paths": paths(a: a, b: b, l1: l1, l2: l2)])
        let source = try #require(try api.postJSON("/api/v1/traffic-sources", ["template": "facebook", "name": "FB"]).json["id"] as? Int)
        var body: [String: Any] = [
            "name": "flow campaign", "traffic_source_id": source, "flow_id": flow, "cost_model": ["type": "cpc", "amount": "0.10"],
        ]
        if let fallback { body["fallback_url"] = fallback }
        let campaign = try api.postJSON("/api/v1/campaigns", body)
        #expect(campaign.status == 201, "\(campaign.text)")
        return Setup(
            api: api, offers: [a, b], landers: [l1, l2], flow: flow, campaign: try #require(campaign.json["id"] as? Int),
            key: try #require(campaign.json["key"] as? String))
    }

    func paths(a: Int, b: Int, l1: Int, l2: Int, defaultLanders: [Int]? = nil) -> [[String: Any]] {
        [
            [
                "name": "VIP", "rules": [["field": "param:promo", "op": "in", "values": ["VIP"]]], "landers": [],
                "offers": [["offer_id": a, "weight": 1]],
            ],
            [
                "name": "Mobile", "rules": [["field": "device", "op": "in", "values": ["mobile", "tablet"]]],
                "landers": [["lander_id": l1, "weight": 1]], "offers": [["offer_id": a, "weight": 1], ["offer_id": b, "weight": 1]],
            ],
            [
                "name": "Default", "rules": [], "landers": (defaultLanders ?? [l1, l2]).map { ["lander_id": $0, "weight": 50] },
                "offers": [["offer_id": a, "weight": 1], ["offer_id": b, "weight": 1]],
            ],
        ]
    }

    func click(_ key: String, _ query: String = "", agent: String = desktop) throws -> HTTPResponse {
        try TestHTTP(base: TestEnvironment.httpURL).get("/c/\(key)?\(query)", headers: [("User-Agent", agent)])
    }

    static func query(_ response: HTTPResponse, _ name: String) -> String? {
        response.header("Location").flatMap(URLComponents.init(string:))?.queryItems?.first { $0.name == name }?.value
    }

    static func host(_ response: HTTPResponse) -> String? {
        response.header("Location").flatMap(URLComponents.init(string:))?.host
    }

    func stored(_ clickID: String) throws -> (path: Int?, lander: Int?, offer: Int?) {
        let row = try #require(try database.query("SELECT flow_path, lander_id, offer_id FROM clicks WHERE id = \(clickID)").first)
        return (
            try row.decode("flow_path", as: Int?.self), try row.decode("lander_id", as: Int64?.self).map(Int.init),
            try row.decode("offer_id", as: Int64?.self).map(Int.init)
        )
    }

    func throughs(_ clickID: String) throws -> Int {
        try database.query("SELECT count(*)::int AS n FROM lander_clicks WHERE click_id = \(clickID)").first!.decode("n")
    }

    @Test func rulesSendClicksToTheirPathsAndTheDefaultSplitsBetweenLanders() throws {
        let s = try setUp()
        let vip = try click(s.key, "promo=vip&ad_id=ad7")
        #expect(vip.status == 302)
        #expect(Self.host(vip) == "a.example")
        let vipID = try #require(Self.query(vip, "s"))
        #expect(Self.query(vip, "o") == String(s.offers[0]))
        #expect(Self.query(vip, "ad") == "ad7")
        #expect(try stored(vipID) == (0, nil, s.offers[0]))

        let mobile = try click(s.key, "ad_id=m", agent: Self.iPhone)
        #expect(Self.host(mobile) == "l1.example")
        #expect(Self.query(mobile, "l") == String(s.landers[0]))
        #expect(try stored(try #require(Self.query(mobile, "c"))) == (1, s.landers[0], nil))

        var hosts: [String: Int] = [:]
        for n in 0..<200 {
            let r = try click(s.key, "ad_id=d\(n)")
            #expect(r.status == 302)
            hosts[Self.host(r) ?? "?", default: 0] += 1
        }
        #expect(hosts.keys.sorted() == ["l1.example", "l2.example"])
        #expect((hosts["l1.example"] ?? 0) > 60 && (hosts["l2.example"] ?? 0) > 60, "\(hosts)")
        let byPath = try database.query(
            "SELECT flow_path, count(*)::int AS n FROM clicks WHERE campaign_id = \(s.campaign) GROUP BY 1 ORDER BY 1"
        ).map { (try $0.decode("flow_path", as: Int.self), try $0.decode("n", as: Int.self)) }
        #expect(byPath.map(\.0) == [0, 1, 2])
        #expect(byPath.map(\.1) == [1, 1, 200])
    }

    @Test func aLanderClickThroughGoesToAnOfferOnceAndAgainToTheSameOne() throws {
        let s = try setUp()
        let landed = try click(s.key, "ad_id=x1", agent: Self.iPhone)
        let id = try #require(Self.query(landed, "c"))
        let http = TestHTTP(base: TestEnvironment.httpURL)
        let first = try http.get("/click?cid=\(id)")
        #expect(first.status == 302)
        #expect(first.header("Cache-Control") == "no-store")
        #expect(Self.query(first, "s") == id)
        let offer = try #require(Self.query(first, "o").flatMap { Int($0) })
        #expect(s.offers.contains(offer))
        for _ in 0..<5 {
            let again = try http.get("/click?cid=\(id)")
            #expect(again.header("Location") == first.header("Location"), "\(again.header("Location") ?? "")")
        }
        #expect(try http.get("/click/2?cid=\(id)").header("Location") == first.header("Location"))
        #expect(try throughs(id) == 1)
        let row = try #require(try database.query("SELECT offer_id, lander_id, flow_path FROM lander_clicks WHERE click_id = \(id)").first)
        #expect(try row.decode("offer_id", as: Int64.self) == Int64(offer))
        #expect(try row.decode("lander_id", as: Int64.self) == Int64(s.landers[0]))

        // `/click/2` by the cookie picks the path's second offer; the offer URL has its tokens.
        let other = try click(s.key, "ad_id=x2", agent: Self.iPhone)
        let otherID = try #require(Self.query(other, "c"))
        let second = try http.get("/click/2", headers: [("Cookie", "wm_click=\(otherID)")])
        #expect(Self.host(second) == "b.example")
        #expect(Self.query(second, "o") == String(s.offers[1]))
        #expect(try throughs(otherID) == 1)
        // `/click/1` of a third click: the first offer, with {lander_id} and the click's parameter.
        let third = try click(s.key, "ad_id=x3", agent: Self.iPhone)
        let thirdThrough = try http.get("/click/1?cid=\(try #require(Self.query(third, "c")))")
        #expect(Self.host(thirdThrough) == "a.example")
        #expect(Self.query(thirdThrough, "l") == String(s.landers[0]))
        #expect(Self.query(thirdThrough, "ad") == "x3")

        #expect(try http.get("/click?cid=AAAAAAAAAAAAAAAAAAAAAAA").status == 404)
        #expect(try http.get("/click").status == 404)
        #expect(try http.get("/click/abc?cid=\(id)").status == 404)
    }

    @Test func aPostbackWithoutPayoutTakesTheOffersPayoutAndCurrency() throws {
        let s = try setUp()
        let http = TestHTTP(base: TestEnvironment.httpURL)
        let direct = try #require(Self.query(try click(s.key, "promo=vip"), "s"))
        let landed = try #require(Self.query(try click(s.key, "", agent: Self.iPhone), "c"))
        let through = try http.get("/click/2?cid=\(landed)")
        #expect(Self.host(through) == "b.example", "\(through.status) \(through.header("Location") ?? "")")
        let given = try #require(Self.query(try click(s.key, "promo=VIP"), "s"))
        #expect(try http.get("/postback?clickid=\(direct)&txid=t1").status == 200)
        #expect(try http.get("/postback?clickid=\(landed)&txid=t2").status == 200)
        #expect(try http.get("/postback?clickid=\(given)&payout=9.5&txid=t3").status == 200)
        let rows = try database.query(
            """
            SELECT click_id, payout::text AS payout, currency, offer_id, lander_id, flow_path FROM conversions
            WHERE click_id = ANY(\([direct, landed, given])::text[])
            """
        ).map { (try $0.decode("click_id", as: String.self), $0) }
        let byClick = Dictionary(rows, uniquingKeysWith: { a, _ in a })
        #expect(try byClick[direct]?.decode("payout", as: String.self) == "3.000000")
        #expect(try byClick[direct]?.decode("currency", as: String.self) == "USD")
        #expect(try byClick[direct]?.decode("offer_id", as: Int64.self) == Int64(s.offers[0]))
        #expect(try byClick[landed]?.decode("payout", as: String.self) == "2.500000")
        #expect(try byClick[landed]?.decode("currency", as: String.self) == "EUR")
        #expect(try byClick[landed]?.decode("offer_id", as: Int64.self) == Int64(s.offers[1]))
        #expect(try byClick[landed]?.decode("lander_id", as: Int64.self) == Int64(s.landers[0]))
        #expect(try byClick[given]?.decode("payout", as: String.self) == "9.500000")
    }

    @Test func anEditedFlowRoutesNewClicksAtOnceAndOldClicksKeepTheirLander() throws {
        let s = try setUp()
        let before = try click(s.key, "ad_id=e0", agent: Self.iPhone)
        let beforeID = try #require(Self.query(before, "c"))
        let patched = try s.api.sendJSON(
            "PATCH", "/api/v1/flows/\(s.flow)",
            ["paths": paths(a: s.offers[0], b: s.offers[1], l1: s.landers[0], l2: s.landers[1], defaultLanders: [s.landers[1]])])
        #expect(patched.status == 200, "\(patched.text)")
        // The cache reloads on NOTIFY: new clicks take the edited default path within moments.
        #expect(waitUntil(seconds: 5) { (0..<8).allSatisfy { _ in (try? Self.host(click(s.key, "ad_id=p"))) == "l2.example" } })
        for n in 0..<30 { #expect(Self.host(try click(s.key, "ad_id=e\(n)")) == "l2.example") }
        #expect(try stored(beforeID).lander == s.landers[0])
        #expect(Self.query(try TestHTTP(base: TestEnvironment.httpURL).get("/click?cid=\(beforeID)"), "s") == beforeID)
    }

    @Test func aCappedOfferIsSkippedAndWithAllOffersGoneClicksGoToTheFallback() throws {
        let s = try setUp(cap: 1)
        let http = TestHTTP(base: TestEnvironment.httpURL)
        let landed = try #require(Self.query(try click(s.key, "", agent: Self.iPhone), "c"))
        #expect(Self.host(try http.get("/click/2?cid=\(landed)")) == "b.example")
        #expect(try http.get("/postback?clickid=\(landed)&txid=cap1").status == 200)
        // B reached its cap of 1 today: the caps are counted again on the conversion's NOTIFY.
        #expect(
            waitUntil(seconds: 5) {
                let next = try? click(s.key, "", agent: Self.iPhone)
                let id = next.flatMap { Self.query($0, "c") } ?? ""
                return (try? Self.host(http.get("/click/2?cid=\(id)"))) == "a.example"
            })
        for _ in 0..<10 {
            let id = try #require(Self.query(try click(s.key, "", agent: Self.iPhone), "c"))
            #expect(Self.host(try http.get("/click?cid=\(id)")) == "a.example")
        }
        // Pausing A leaves no offer in any path: the campaign's fallback URL, click kept.
        #expect(try s.api.sendJSON("PATCH", "/api/v1/offers/\(s.offers[0])", ["status": "paused"]).status == 200)
        #expect(waitUntil(seconds: 5) { (try? click(s.key, "promo=vip").header("Location")) == "https://fallback.example/" })
        let none = try setUp(fallback: nil)
        for offer in none.offers { #expect(try none.api.sendJSON("PATCH", "/api/v1/offers/\(offer)", ["status": "paused"]).status == 200) }
        #expect(waitUntil(seconds: 5) { (try? click(none.key, "promo=vip").status) == 404 })
    }

    @Test func theReportByLanderAndOfferEqualsWhatWasSent() throws {
        let s = try setUp()
        let http = TestHTTP(base: TestEnvironment.httpURL)
        var sent: [String: (clicks: Int, views: Int, throughs: Int, conversions: Int)] = [:]
        func add(_ lander: Int?, _ offer: Int?, views: Int = 0, throughs: Int = 0, conversions: Int = 0) {
            let key = "\(lander.map(String.init) ?? "-")/\(offer.map(String.init) ?? "-")"
            let old = sent[key] ?? (0, 0, 0, 0)
            sent[key] = (old.clicks + 1, old.views + views, old.throughs + throughs, old.conversions + conversions)
        }
        for n in 0..<40 {
            let landed = try click(s.key, "ad_id=r\(n)")
            let id = try #require(Self.query(landed, "c"))
            let lander = Self.host(landed) == "l1.example" ? s.landers[0] : s.landers[1]
            guard n % 4 != 0 else {
                add(lander, nil, views: 1)  // left the lander without clicking through
                continue
            }
            let through = try http.get("/click/\(n % 2 + 1)?cid=\(id)")
            let offer = Self.host(through) == "a.example" ? s.offers[0] : s.offers[1]
            let converts = n % 3 == 0
            if converts { #expect(try http.get("/postback?clickid=\(id)&payout=1.25&currency=USD").status == 200) }
            add(lander, offer, views: 1, throughs: 1, conversions: converts ? 1 : 0)
        }
        let direct = try #require(Self.query(try click(s.key, "promo=vip"), "s"))
        #expect(try http.get("/postback?clickid=\(direct)&payout=1.25&currency=USD").status == 200)
        add(nil, s.offers[0], conversions: 1)
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withFullDate])
        let answer = try s.api.get("/api/v1/reports?from=\(today)&to=\(today)&tz=UTC&group_by=lander,offer&campaign_id=\(s.campaign)")
        #expect(answer.status == 200, "\(answer.text)")
        let rows = try #require(answer.json["rows"] as? [[String: Any]])
        var reported: [String: (clicks: Int, views: Int, throughs: Int, conversions: Int)] = [:]
        for row in rows {
            let key = "\((row["lander_id"] as? Int).map(String.init) ?? "-")/\((row["offer_id"] as? Int).map(String.init) ?? "-")"
            reported[key] = (
                row["clicks"] as? Int ?? -1, row["lander_views"] as? Int ?? -1, row["lander_clicks"] as? Int ?? -1,
                row["conversions"] as? Int ?? -1
            )
        }
        #expect(reported.keys.sorted() == sent.keys.sorted())
        for (key, value) in sent {
            #expect(reported[key].map { $0 == value } == true, "\(key): \(String(describing: reported[key])) vs \(value)")
        }
        let totals = try #require(answer.json["totals"] as? [String: Any])
        let revenue = (totals["revenue"] as? String).flatMap { Decimal(string: $0) }
        #expect(revenue == Decimal(sent.values.reduce(0) { $0 + $1.conversions }) * Decimal(string: "1.25")!)
    }

    func storedThroughs(_ ids: [String]) throws -> Set<String> {
        Set(try database.query("SELECT click_id FROM lander_clicks WHERE click_id = ANY(\(ids)::text[])").map { try $0.decode("click_id") })
    }

    /// A lander click and its click-through; the click id when the click-through got its 302.
    func landAndClickThrough(_ key: String, _ http: TestHTTP) -> String? {
        guard let landed = try? http.send("GET", "/c/\(key)", headers: [("User-Agent", Self.iPhone)], timeout: 5),
            let id = Self.query(landed, "c"), let through = try? http.send("GET", "/click?cid=\(id)", timeout: 5), through.status == 302
        else { return nil }
        return id
    }

    @Test func clickThroughsAnsweredWhilePostgreSQLIsDownAreStoredWhenItIsBack() throws {
        let s = try setUp()
        let http = TestHTTP(base: TestEnvironment.httpURL)
        let before = try (0..<20).map { _ in try #require(Self.query(try click(s.key, "", agent: Self.iPhone), "c")) }
        #expect(try TestEnvironment.script("postgres.sh", "stop") == 0)
        var restarted = false
        defer { if !restarted { _ = try? TestEnvironment.script("postgres.sh", "start") } }
        var answered: [String] = []
        for id in before where try http.get("/click?cid=\(id)").status == 302 { answered.append(id) }
        for _ in 0..<20 { if let id = landAndClickThrough(s.key, http) { answered.append(id) } }
        #expect(answered.count == 40)
        #expect(try TestEnvironment.script("postgres.sh", "start") == 0)
        restarted = true
        #expect(waitUntil(seconds: 30) { ((try? TestHTTP().get("/healthz").json["click_spool_bytes"] as? Int) ?? -1) == 0 })
        #expect(try storedThroughs(answered) == Set(answered))
        // Each is counted once: the replayed rows and the clicks made during the outage.
        let n = try database.query("SELECT count(*)::int AS n FROM lander_clicks WHERE campaign_id = \(s.campaign)").first!.decode(
            "n", as: Int.self)
        #expect(n == 40)
    }

    @Test func everyClickThroughAnsweredBeforeTheResponderIsKilledIsStored() throws {
        let s = try setUp()
        let run = TestEnvironment.whileKillingTheResponder(limit: 1000) { http, _ in landAndClickThrough(s.key, http) }
        #expect(run.killed && run.restarted)
        #expect(run.answers.count > 20)
        #expect(try storedThroughs(run.answers) == Set(run.answers))
    }
}

/// A click-through of a click the responder no longer holds in memory (it restarted): found in
/// PostgreSQL, with the offer its first click-through kept.
@Suite(.needsStack, .timeLimit(.minutes(5))) struct FlowClickThroughRestartIntegrationTests {
    @Test func aClickThroughAfterARestartReadsTheClickAndItsOfferFromTheDatabase() throws {
        let routing = FlowRoutingIntegrationTests()
        let s = try routing.setUp()
        let http = TestHTTP(base: TestEnvironment.httpURL)
        let first = try #require(
            FlowRoutingIntegrationTests.query(try routing.click(s.key, "", agent: FlowRoutingIntegrationTests.iPhone), "c"))
        let second = try #require(
            FlowRoutingIntegrationTests.query(try routing.click(s.key, "", agent: FlowRoutingIntegrationTests.iPhone), "c"))
        let before = try http.get("/click?cid=\(first)")
        #expect(before.status == 302)
        let pid = try #require(TestEnvironment.responderPID())
        #expect(kill(pid, SIGKILL) == 0)
        usleep(300_000)
        #expect(waitUntil(seconds: 20) { (try? TestHTTP().get("/healthz").status) == 200 })
        for _ in 0..<3 { #expect(try http.get("/click?cid=\(first)").header("Location") == before.header("Location")) }
        let after = try http.get("/click/2?cid=\(second)")
        #expect(FlowRoutingIntegrationTests.host(after) == "b.example", "\(after.status) \(after.text)")
        #expect(try routing.throughs(first) == 1 && routing.throughs(second) == 1)
    }
}
