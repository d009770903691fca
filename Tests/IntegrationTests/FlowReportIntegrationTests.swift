import Accounts
import Foundation
import HTTPClient
import Postgres
import Reports
import Testing
import Tracking
import Waymark
import WaymarkCore
import WaymarkTesting

/// Reports by flow, path, lander and offer, and the split-test view, reconciled with the raw
/// clicks, click-throughs and conversions they come from, on the roll-ups and the click table.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct FlowReportIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    struct Click {
        var id: String
        var at: Date
        var flow: Int?
        var path: Int
        var lander: Int?
        /// The offer drawn at the click (no lander), or the one its click-through will go to.
        var offer: Int?
        var through = false
        var bot: Bool
        var unique: Bool
        var country: String
        /// The offer it is reported under: none for a lander click not (yet) through.
        var effectiveOffer: Int? { lander == nil ? offer : (through ? offer : nil) }
    }

    struct Setup {
        var api: TestHTTP
        var email: String
        var workspaceID: Int
        var campaignID: Int
        var flowID: Int
        var landers: [Int]
        var offers: [Int]
        /// By "offer:ID" and "lander:ID" (their ids are separate sequences).
        var names: [String: String] = [:]
        var clicks: [Click] = []
        var conversions: [(click: Click, payout: Decimal, approved: Bool)] = []
    }

    /// A Europe/Berlin workspace, a CPC campaign, two landers, three offers and a flow: path 0
    /// "Mobile" (a 50/50 lander test, offers 1 and 2), path 1 "Default" (offers 1 and 3
    /// direct); seeded clicks over the last three days, a few outside any flow.
    func makeSetup(seed: UInt64) throws -> Setup {
        var rng = SeededRandom(seed)
        let email = "flow-reports-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        _ = try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        func create(_ path: String, _ body: [String: Any]) throws -> Int {
            let r = try api.postJSON(path, body)
            #expect(r.status == 201, "\(path): \(r.text)")
            return try #require(r.json["id"] as? Int)
        }
        let suffix = uniqueSuffix().filter { $0.isLetter || $0.isNumber }
        let ws = try create("/api/v1/workspaces", ["name": "F \(suffix)", "timezone": "Europe/Berlin", "currency": "USD"])
        let source = try create("/api/v1/traffic-sources", ["name": "Src \(suffix)", "workspace_id": ws, "cost_currency": "USD"])
        var names: [String: String] = [:]
        var offers: [Int] = [], landers: [Int] = []
        for n in 1...3 {
            let name = "Offer\(n)x\(suffix)"
            let id = try create(
                "/api/v1/offers", ["name": name, "url": "https://o\(n).example/?s={clickid}", "payout": "2", "workspace_id": ws])
            offers.append(id)
            names["offer:\(id)"] = name
        }
        for n in 1...2 {
            let name = "Lander\(n)x\(suffix)"
            let id = try create("/api/v1/landers", ["name": name, "url": "https://l\(n).example/?c={clickid}", "workspace_id": ws])
            landers.append(id)
            names["lander:\(id)"] = name
        }
        let flow = try create(
            "/api/v1/flows",
            [
                "name": "Flow \(suffix)", "workspace_id": ws,
                "paths": [
                    [
                        "name": "Mobile", "rules": [["field": "device", "op": "in", "values": ["mobile"]]],
                        "landers": landers.map { ["lander_id": $0, "weight": 1] },
                        "offers": [["offer_id": offers[0], "weight": 1], ["offer_id": offers[1], "weight": 1]],
                    ],
                    [
                        "name": "Default", "rules": [],
                        "offers": [["offer_id": offers[0], "weight": 1], ["offer_id": offers[2], "weight": 3]],
                    ],
                ],
            ])
        let campaign = try create(
            "/api/v1/campaigns",
            [
                "name": "Camp \(suffix)", "traffic_source_id": source, "destination_url": "https://o.example/",
                "cost_model": ["type": "cpc", "amount": "0.10"],
            ])
        var s = Setup(
            api: api, email: email, workspaceID: ws, campaignID: campaign, flowID: flow, landers: landers, offers: offers, names: names)
        try database.query("SELECT waymark_ensure_click_partition((now() AT TIME ZONE 'UTC')::date - d) FROM generate_series(0, 4) AS d")
        let now = Date()
        for i in 0..<180 {
            let at = now.addingTimeInterval(-3600 - Double(rng.next(3 * 86400)) - Double(i) / 10)
            var click = Click(
                id: ClickID.make(at: at), at: at, flow: flow, path: 0, lander: nil, offer: nil, bot: rng.next(10) == 0,
                unique: rng.next(5) < 3, country: ["DE", "FR"][rng.next(2)])
            switch rng.next(20) {
            case 0..<11:
                let l = rng.next(2)
                click.lander = landers[l]
                click.offer = offers[rng.next(2)]
                click.through = rng.next(10) < (l == 0 ? 7 : 3)
            case 11..<19:
                click.path = 1
                click.offer = rng.next(4) == 0 ? offers[0] : offers[2]
            default:
                click.flow = nil
            }
            s.clicks.append(click)
        }
        for c in s.clicks { try insert(c, s) }
        return s
    }

    func insert(_ c: Click, _ s: Setup) throws {
        let lander = c.lander, offer = c.lander == nil ? c.offer : nil, path = c.flow == nil ? nil : c.path
        try database.query(
            """
            INSERT INTO clicks (id, clicked_at, campaign_id, traffic_source_id, workspace_id, is_bot, is_unique, cost, country,
                                flow_id, flow_path, lander_id, offer_id)
            SELECT \(c.id), to_timestamp(\(c.at.timeIntervalSince1970)), id, traffic_source_id, \(s.workspaceID), \(c.bot), \(c.unique),
                   0.10, \(c.country), \(c.flow), \(path), \(lander), \(offer)
            FROM campaigns WHERE id = \(s.campaignID)
            """)
    }

    /// The click-throughs of `clicks` in one statement (as the click writer's batch), each to
    /// its offer; a click already through is dropped (ON CONFLICT), as a repeat is.
    func clickThrough(_ clicks: [Click], offer: (Click) -> Int? = { $0.offer }) throws {
        try database.query(
            """
            INSERT INTO lander_clicks (click_id, clicked_at, through_at, campaign_id, traffic_source_id, workspace_id, flow_id, flow_path,
                                       lander_id, offer_id, cost, is_bot, is_unique)
            SELECT k.id, k.clicked_at, now(), k.campaign_id, k.traffic_source_id, k.workspace_id, k.flow_id, k.flow_path, k.lander_id,
                   t.offer, k.cost, k.is_bot, k.is_unique
            FROM unnest(\(clicks.map(\.id))::text[], \(clicks.map { offer($0) ?? 0 })::bigint[]) AS t (id, offer)
            JOIN clicks k ON k.id = t.id
            ON CONFLICT (click_id) DO NOTHING
            """)
    }

    /// Conversions of some clicks that reached an offer, with the click's flow, path, lander
    /// and offer (as the conversion recorder stores them).
    func convert(_ s: inout Setup, seed: UInt64) throws {
        var rng = SeededRandom(seed)
        for c in s.clicks where !c.bot && c.effectiveOffer != nil {
            let odds = c.lander == s.landers[0] ? 45 : c.lander == nil ? 15 : 5
            guard rng.next(100) < odds else { continue }
            let payout = Decimal(rng.next(4000) + 100) / 100
            let approved = rng.next(6) != 0
            s.conversions.append((c, payout, approved))
            try database.query(
                """
                INSERT INTO conversions (workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, dedupe_key, status,
                                         payout, currency, converted_at, flow_id, flow_path, lander_id, offer_id)
                SELECT \(s.workspaceID), \(c.id), to_timestamp(\(c.at.timeIntervalSince1970)), id, traffic_source_id, 'sale',
                       \("t:\(c.id)"), \(approved ? "approved" : "pending"), \("\(payout)")::numeric, 'USD', now(),
                       \(c.flow), \(c.flow == nil ? nil : c.path), \(c.lander), \(c.effectiveOffer)
                FROM campaigns WHERE id = \(s.campaignID)
                """)
        }
    }

    /// [clicks, bot_clicks, unique_clicks, lander_views, lander_clicks, conversions, revenue, cost] by key, from the raw rows.
    func expected(_ s: Setup, _ key: (Click) -> String) -> [String: [Decimal]] {
        var out: [String: [Decimal]] = [:]
        for c in s.clicks {
            var v = out[key(c)] ?? Array(repeating: 0, count: 8)
            if c.bot { v[1] += 1 } else { v[0] += 1 }
            if c.unique && !c.bot { v[2] += 1 }
            if c.lander != nil && !c.bot { v[3] += 1 }
            if c.lander != nil && c.through && !c.bot { v[4] += 1 }
            v[7] += Decimal(string: "0.10")!
            out[key(c)] = v
        }
        for conv in s.conversions where conv.approved {
            var v = out[key(conv.click)] ?? Array(repeating: 0, count: 8)
            v[5] += 1
            v[6] += conv.payout
            out[key(conv.click)] = v
        }
        return out
    }

    /// The same sums from the API's rows, by key.
    func reported(_ s: Setup, _ groupBy: String, _ key: ([String: Any]) -> String) throws -> [String: [Decimal]] {
        let from = try database.query("SELECT ((now() AT TIME ZONE 'Europe/Berlin')::date - 5)::text AS d")[0]["d"] ?? ""
        let answer = try s.api.get(
            "/api/v1/reports?from=\(from)&to=\(Dates.day(Date().addingTimeInterval(86400)))&tz=Europe/Berlin&group_by=\(groupBy)"
                + "&campaign_id=\(s.campaignID)")
        #expect(answer.status == 200, "\(answer.text)")
        var out: [String: [Decimal]] = [:]
        for row in answer.json["rows"] as? [[String: Any]] ?? [] {
            var v = out[key(row)] ?? Array(repeating: 0, count: 8)
            for (i, metric) in ["clicks", "bot_clicks", "unique_clicks", "lander_views", "lander_clicks", "conversions"].enumerated() {
                v[i] += Decimal(row[metric] as? Int ?? 0)
            }
            v[6] += Decimal(string: row["revenue"] as? String ?? "0") ?? 0
            v[7] += Decimal(string: row["cost"] as? String ?? "0") ?? 0
            out[key(row)] = v
        }
        return out.filter { $0.value.contains { $0 != 0 } }
    }

    func id(_ value: Any?) -> Int { value as? Int ?? 0 }

    /// A period around the clicks (the last three days), in UTC days.
    var period: String { "from=\(Dates.day(Date().addingTimeInterval(-10 * 86400)))&to=\(Dates.day(Date().addingTimeInterval(86400)))" }

    /// Every grouping the roll-ups serve, and one the click table serves (country), against the raw rows.
    func expectReportsEqualTheRawRows(_ s: Setup, _ moment: String) throws {
        let byLanderOffer = expected(s) { "\($0.lander ?? 0)|\($0.effectiveOffer ?? 0)" }
        let rowLanderOffer: ([String: Any]) -> String = { "\(self.id($0["lander_id"]))|\(self.id($0["offer_id"]))" }
        #expect(try reported(s, "lander,offer", rowLanderOffer) == byLanderOffer, "\(moment): lander,offer")
        #expect(try reported(s, "offer,lander,country", rowLanderOffer) == byLanderOffer, "\(moment): raw clicks")
        #expect(try reported(s, "day,lander,offer", rowLanderOffer) == byLanderOffer, "\(moment): by day")
        let byPath = expected(s) { c in c.flow.map { "\($0)|\(["Mobile", "Default"][c.path])" } ?? "0|-" }
        let rowPath: ([String: Any]) -> String = { "\(self.id($0["flow_id"]))|\($0["path"] as? String ?? "-")" }
        #expect(try reported(s, "flow,path", rowPath) == byPath, "\(moment): flow,path")
        let byOffer = expected(s) { "\($0.effectiveOffer ?? 0)" }
        #expect(try reported(s, "offer", { "\(self.id($0["offer_id"]))" }) == byOffer, "\(moment): offer")
    }

    @Test func reportsByLanderOfferFlowAndPathEqualTheRawRowsBeforeAndAfterFolding() throws {
        var s = try makeSetup(seed: 18)
        let through = s.clicks.indices.filter { s.clicks[$0].lander != nil && s.clicks[$0].through }
        #expect(through.count > 20)
        let (early, late) = (Array(through.prefix(through.count / 2)), Array(through.dropFirst(through.count / 2)))
        for i in early { s.clicks[i].through = true }
        for i in late { s.clicks[i].through = false }
        try clickThrough(early.map { s.clicks[$0] })
        // A repeat of a click-through (another offer) is not counted again, nor moved.
        try clickThrough([s.clicks[early[0]]], offer: { c in s.offers.first { $0 != c.offer } })
        try convert(&s, seed: 5)
        #expect(s.conversions.count > 5)
        try expectReportsEqualTheRawRows(s, "before folding")
        try database.query("SELECT waymark_fold_click_rollups()")
        try expectReportsEqualTheRawRows(s, "after folding")
        // Click-throughs of clicks already folded move them from "no offer" to their offer.
        for i in late { s.clicks[i].through = true }
        try clickThrough(late.map { s.clicks[$0] })
        try expectReportsEqualTheRawRows(s, "late click-throughs, not folded")
        try database.query("SELECT waymark_fold_click_rollups()")
        try expectReportsEqualTheRawRows(s, "late click-throughs, folded")
        // The daily roll-ups, cut in the workspace's zone.
        try database.query("SELECT waymark_rebuild_daily_rollups(\(s.workspaceID), true)")
        try expectReportsEqualTheRawRows(s, "daily roll-ups rebuilt")
        // The roll-ups themselves carry the lander counts (what the report at campaign level reads).
        let rolled = try database.query(
            """
            SELECT sum(lander_views)::bigint AS views, sum(lander_clicks)::bigint AS throughs,
                   sum(clicks) FILTER (WHERE offer_id IS NULL AND lander_id IS NOT NULL)::bigint AS pending
            FROM click_rollups WHERE campaign_id = \(s.campaignID)
            """)[0]
        let want = expected(s) { _ in "" }[""]!
        #expect(Decimal(string: rolled["views"] ?? "") == want[3] && Decimal(string: rolled["throughs"] ?? "") == want[4])
        let pending = s.clicks.filter { $0.lander != nil && !$0.through && !$0.bot }.count
        #expect(rolled["pending"] == String(pending), "lander clicks not through stay without an offer")
        let totals = try #require(
            try s.api.get("/api/v1/reports?\(period)&group_by=lander&campaign_id=\(s.campaignID)").json["totals"] as? [String: Any])
        let ctr = NSDecimalNumber(decimal: want[4] * 100 / want[3]).doubleValue
        #expect(abs((totals["lander_ctr"] as? Double ?? -1) - ctr) < 0.006)
    }

    @Test func filtersByFlowAndPathAndNamesTheRows() throws {
        var s = try makeSetup(seed: 7)
        try clickThrough(s.clicks.filter { $0.lander != nil && $0.through })
        try convert(&s, seed: 1)
        let mobile = try s.api.get(
            "/api/v1/reports?\(period)&group_by=lander,offer&flow_id=\(s.flowID)&path=0&workspace_id=\(s.workspaceID)")
        #expect(mobile.status == 200, "\(mobile.text)")
        let rows = try #require(mobile.json["rows"] as? [[String: Any]])
        #expect(!rows.isEmpty && rows.allSatisfy { s.landers.contains(self.id($0["lander_id"])) })
        let named = try #require(rows.first { $0["offer_id"] is Int })
        #expect(named["lander_name"] as? String == s.names["lander:\(id(named["lander_id"]))"])
        #expect(named["offer_name"] as? String == s.names["offer:\(id(named["offer_id"]))"])
        let want = expected(s) { c in c.flow != nil && c.path == 0 ? "m" : "" }["m"]!
        let totals = try #require(mobile.json["totals"] as? [String: Any])
        #expect(totals["clicks"] as? Int == NSDecimalNumber(decimal: want[0]).intValue)
        #expect(totals["lander_views"] as? Int == NSDecimalNumber(decimal: want[3]).intValue)
        #expect(Decimal(string: totals["revenue"] as? String ?? "") == want[6])
        // A lander click not yet through has offer_id null in the API.
        let pending = s.clicks.first { $0.lander != nil && !$0.through && !$0.bot }
        if pending != nil { #expect(rows.contains { $0["offer_id"] is NSNull && $0["offer_name"] is NSNull }) }
        #expect(try s.api.get("/api/v1/reports?path=0").status == 400)
        #expect(try s.api.get("/api/v1/reports?group_by=funnel").status == 400)
    }

    /// The retention drops a day's click-throughs with its clicks and roll-ups; younger days keep theirs.
    @Test func theRetentionDropsTheClickThroughsOfTheDaysItDrops() throws {
        var s = try makeSetup(seed: 3)
        let recent = try #require(s.clicks.first { $0.lander != nil && !$0.bot })
        try clickThrough([recent])
        try database.query("SELECT waymark_ensure_click_partition(date '2020-01-03')")
        var old = recent
        old.at = Date(timeIntervalSince1970: 1_578_052_800)  // 2020-01-03T12:00:00Z
        old.id = ClickID.make(at: old.at)
        s.clicks.append(old)
        try insert(old, s)
        try clickThrough([old])
        #expect(try database.query("SELECT count(*)::int AS n FROM lander_clicks WHERE click_id = \(old.id)")[0]["n"] == "1")
        _ = try ClickPartitionStore(database: database).dropExpired(retentionDays: 2000)
        #expect(try database.query("SELECT to_regclass('clicks_20200103') IS NULL AS gone")[0].decode("gone", as: Bool.self))
        #expect(try database.query("SELECT count(*)::int AS n FROM lander_clicks WHERE click_id = \(old.id)")[0]["n"] == "0")
        #expect(try database.query("SELECT count(*)::int AS n FROM lander_clicks WHERE click_id = \(recent.id)")[0]["n"] == "1")
        let day =
            try s.api.get(
                "/api/v1/reports?from=2020-01-03&to=2020-01-03&tz=UTC&group_by=offer&campaign_id=\(s.campaignID)"
            ).json["totals"] as? [String: Any]
        #expect(day?["clicks"] as? Int == 0 && day?["lander_clicks"] as? Int == 0)
    }

    @Test func theSplitTestViewShowsEachArmsNumbersAndItsOddsOfTheBestCR() throws {
        var s = try makeSetup(seed: 42)
        try clickThrough(s.clicks.filter { $0.lander != nil && $0.through })
        try convert(&s, seed: 3)
        let browser = TestBrowser()
        _ = try browser.login(s.email, "correct-horse-42")
        let page = try browser.get("/flows/\(s.flowID)/split-test?path=0")
        #expect(page.status == 200, "\(page.text.prefix(300))")
        #expect(page.text.contains("Monte Carlo") && page.text.contains("Beta(1 + conversions"))
        // Each lander's row: weight, views, clicks, CTR, conversions, CR on views, EPC, revenue, P(best).
        let byLander = expected(s) { c in c.flow != nil && c.path == 0 ? "\(c.lander ?? 0)" : "-" }
        let arms = s.landers.map { l -> SplitTest.Arm in
            let v = byLander["\(l)"] ?? Array(repeating: 0, count: 8)
            return SplitTest.Arm(conversions: NSDecimalNumber(decimal: v[5]).intValue, trials: NSDecimalNumber(decimal: v[3]).intValue)
        }
        let odds = SplitTest(arms: arms).probabilities()
        for (i, l) in s.landers.enumerated() {
            let v = byLander["\(l)"]!
            func text(_ d: Decimal, _ places: Int) -> String { Metrics.text(d, places: places) }
            let cells = [
                text(v[3], 0), text(v[4], 0), text(v[4] * 100 / v[3], 2), text(v[5], 0), text(v[5] * 100 / v[3], 2), text(v[6] / v[3], 2),
                text(v[6], 2), String(format: "%.1f %%", odds[i] * 100),
            ]
            let row = "<td>\(s.names["lander:\(l)"]!)</td><td class=\"num\">1</td>" + cells.map { "<td class=\"num\">\($0)</td>" }.joined()
            #expect(page.text.contains(row), "\(row)\n\(page.text)")
        }
        #expect(abs(odds.reduce(0, +) - 1) < 1e-9)
        if let w = SplitTest.winner(odds) {
            #expect(page.text.contains("Decided: \(s.names["lander:\(s.landers[w])"]!) has the best CR"))
        } else {
            #expect(page.text.contains("Not decided yet"))
        }
        // Offers: CR on clicks; the lander clicks not through yet are counted apart.
        let byOffer = expected(s) { c in c.flow != nil && c.path == 0 ? "\(c.effectiveOffer ?? 0)" : "-" }
        for o in s.offers.prefix(2) {
            let v = byOffer["\(o)"] ?? Array(repeating: 0, count: 8)
            let start = "<td>\(s.names["offer:\(o)"]!)</td><td class=\"num\">1</td><td class=\"num\">\(Metrics.text(v[0], places: 0))</td>"
            #expect(page.text.contains(start + "<td class=\"num\">\(Metrics.text(v[5], places: 0))</td>"), "\(start)")
        }
        if let pending = byOffer["0"], pending[0] > 0 {
            #expect(page.text.contains("Not through to an offer yet: \(Metrics.text(pending[0], places: 0)) clicks"))
        }
        // The default path links straight to offers; no such path, or someone else's flow: 404.
        let direct = try browser.get("/flows/\(s.flowID)/split-test?path=1&preset=custom&\(period)&tz=UTC")
        #expect(direct.text.contains("straight to its offers") && direct.text.contains(s.names["offer:\(s.offers[2])"]!))
        #expect(try browser.get("/flows/\(s.flowID)/split-test?path=2").status == 404)
        #expect(try browser.get("/flows/\(s.flowID)/split-test?path=x").status == 400)
        let other = "member-\(uniqueSuffix())@example.test"
        _ = try UserStore(database: database).create(email: other, password: "correct-horse-42", role: .member)
        let outsider = TestBrowser()
        _ = try outsider.login(other, "correct-horse-42")
        #expect(try outsider.get("/flows/\(s.flowID)/split-test").status == 404)
    }
}
