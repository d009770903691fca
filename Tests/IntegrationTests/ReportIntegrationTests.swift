import Accounts
import Catalog
import Foundation
import HTTPClient
import Postgres
import Reports
import Spend
import Testing
import Tracking
import Waymark
import WaymarkCore
import WaymarkTesting

/// Reports reconciled with the raw clicks, conversions and spend they come from.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct ReportIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    struct Click {
        var id: String
        var at: Date
        var source: Int
        var campaign: Int
        var bot: Bool
        var unique: Bool
        var cost: Decimal
        var zone: String
    }
    struct Conversion {
        var click: Click
        var at: Date
        var status: String
        var payout: Decimal
        var event: String
    }
    struct Spend {
        var day: String
        var source: Int
        var campaign: Int?
        var amount: Decimal
    }

    struct History {
        var api: TestHTTP
        var email: String
        var workspaceID: Int
        var sources: [Int]
        var campaigns: [Int: Int]  // campaign → source
        var clicks: [Click] = []
        var conversions: [Conversion] = []
        var spend: [Spend] = []
    }

    /// A USD workspace with two sources (parameter `zone`), two CPC campaigns each, and a
    /// seeded random history around the 2026 DST changes (US 8 March, EU 29 March).
    func makeHistory(seed: UInt64) throws -> History {
        var rng = SeededRandom(seed)
        let email = "reports-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        _ = try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let workspaceID = try #require(
            try api.postJSON("/api/v1/workspaces", ["name": "R \(uniqueSuffix())", "timezone": "America/New_York", "currency": "USD"]).json[
                "id"] as? Int)
        var history = History(api: api, email: email, workspaceID: workspaceID, sources: [], campaigns: [:])
        for s in 0..<2 {
            let source = try #require(
                try api.postJSON(
                    "/api/v1/traffic-sources",
                    [
                        "name": "Source \(s) \(uniqueSuffix())", "workspace_id": workspaceID, "cost_currency": "USD",
                        "parameters": [["name": "zone", "token": "{zone}"]],
                    ]
                ).json["id"] as? Int)
            history.sources.append(source)
            for c in 0..<2 {
                let campaign = try #require(
                    try api.postJSON(
                        "/api/v1/campaigns",
                        [
                            "name": "Campaign \(s)-\(c)", "traffic_source_id": source, "destination_url": "https://o.example/",
                            "cost_model": ["type": "cpc", "amount": c == 0 ? "0.25" : "0.10"],
                        ]
                    ).json["id"] as? Int)
                history.campaigns[campaign] = source
            }
        }
        let start = Date(timeIntervalSince1970: 1_772_668_800)  // 2026-03-05T00:00:00Z
        for day in 0..<30 { try database.query("SELECT waymark_ensure_click_partition(date '2026-03-05' + \(day)::int)") }
        let campaignIDs = history.campaigns.keys.sorted()
        for i in 0..<600 {
            let campaign = campaignIDs[rng.next(campaignIDs.count)]
            let at = start.addingTimeInterval(Double(rng.next(26 * 86400)) + Double(i % 7) / 10)
            let cost: Decimal = campaignIDs.firstIndex(of: campaign)! % 2 == 0 ? Decimal(string: "0.25")! : Decimal(string: "0.10")!
            let click = Click(
                id: ClickID.make(at: at), at: at, source: history.campaigns[campaign]!, campaign: campaign, bot: rng.next(10) == 0,
                unique: rng.next(3) != 0, cost: cost, zone: "z\(rng.next(3))")
            history.clicks.append(click)
            if rng.next(5) == 0 {
                let statuses = ["approved", "approved", "pending", "declined"]
                history.conversions.append(
                    Conversion(
                        click: click, at: at.addingTimeInterval(Double(rng.next(3 * 86400))), status: statuses[rng.next(4)],
                        payout: Decimal(rng.next(5000)) / 100, event: rng.next(4) == 0 ? "lead" : "sale"))
            }
        }
        for click in history.clicks {
            try database.query(
                """
                INSERT INTO clicks (id, clicked_at, campaign_id, traffic_source_id, workspace_id, is_bot, is_unique, cost, p1)
                VALUES (\(click.id), to_timestamp(\(click.at.timeIntervalSince1970)), \(click.campaign), \(click.source), \(workspaceID),
                        \(click.bot), \(click.unique), \("\(click.cost)")::numeric, \(click.zone))
                """)
        }
        for (n, v) in history.conversions.enumerated() {
            try database.query(
                """
                INSERT INTO conversions (workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, dedupe_key,
                status, payout, currency, converted_at)
                VALUES (\(workspaceID), \(v.click.id), to_timestamp(\(v.click.at.timeIntervalSince1970)), \(v.click.campaign),
                \(v.click.source), \(v.event),
                        \("t:\(n)"), \(v.status), \("\(v.payout)")::numeric, 'USD', to_timestamp(\(v.at.timeIntervalSince1970)))
                """)
        }
        // "lead" counts as a conversion but not as revenue.
        try database.query(
            """
            INSERT INTO conversion_events (workspace_id, key, name, counts_as_conversion, counts_as_revenue) VALUES
            (\(workspaceID), 'sale', 'Sale', true, true), (\(workspaceID), 'lead', 'Lead', true, false)
            """)
        // Spend: some campaign days (replacing the CPC cost), some source-level days.
        var entries: [[String: Any]] = []
        for _ in 0..<25 {
            let campaign = rng.next(3) == 0 ? nil : campaignIDs[rng.next(campaignIDs.count)]
            let source = campaign.map { history.campaigns[$0]! } ?? history.sources[rng.next(2)]
            let day = String(format: "2026-03-%02d", 5 + rng.next(26))
            let amount = Decimal(rng.next(100_000)) / 100
            if history.spend.contains(where: { $0.day == day && $0.source == source && $0.campaign == campaign }) { continue }
            history.spend.append(Spend(day: day, source: source, campaign: campaign, amount: amount))
            var e: [String: Any] = ["date": day, "traffic_source_id": source, "amount": "\(amount)", "currency": "USD"]
            if let campaign { e["campaign_id"] = campaign }
            entries.append(e)
        }
        let posted = try api.postJSON("/api/v1/spend", ["entries": entries])
        #expect(posted.status == 200, "\(posted.text)")
        return history
    }

    /// Expected sums straight from the generated rows.
    func expected(
        _ h: History, from: String, to: String, tz: String, byConversion: Bool, key: (Click) -> String, spendKey: (Spend) -> String
    )
        -> [String: (clicks: Int, conversions: Int, revenue: Decimal, cost: Decimal)]
    {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: tz)!
        func day(_ d: Date) -> String {
            let c = calendar.dateComponents([.year, .month, .day], from: d)
            return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        }
        var out: [String: (clicks: Int, conversions: Int, revenue: Decimal, cost: Decimal)] = [:]
        let spent = Set(h.spend.compactMap { s in s.campaign.map { "\(s.day)|\($0)" } })
        for c in h.clicks where (from...to).contains(day(c.at)) {
            var v = out[key(c)] ?? (0, 0, 0, 0)
            if !c.bot { v.clicks += 1 }
            if !spent.contains("\(day(c.at))|\(c.campaign)") { v.cost += c.cost }
            out[key(c)] = v
        }
        for conv in h.conversions where (from...to).contains(day(byConversion ? conv.at : conv.click.at)) {
            var v = out[key(conv.click)] ?? (0, 0, 0, 0)
            if conv.status == "approved" {
                v.conversions += 1
                if conv.event == "sale" { v.revenue += conv.payout }
            }
            out[key(conv.click)] = v
        }
        for s in h.spend where (from...to).contains(s.day) {
            var v = out[spendKey(s)] ?? (0, 0, 0, 0)
            v.cost += s.amount
            out[spendKey(s)] = v
        }
        return out
    }

    func decimal(_ v: Any?) -> Decimal { Decimal(string: v as? String ?? "0") ?? 0 }

    @Test func reportsReconcileWithTheRawData() throws {
        let h = try makeHistory(seed: 42)
        var rng = SeededRandom(7)
        let zones = ["UTC", "America/New_York", "Europe/Berlin"]
        for round in 0..<12 {
            let a = 5 + rng.next(20), b = a + rng.next(10)
            let from = String(format: "2026-03-%02d", a), to = String(format: "2026-03-%02d", min(b, 31))
            let tz = zones[round % 3]
            let byConversion = round % 2 == 1
            let grouping = ["traffic_source", "campaign", "day", "param:zone"][round % 4]
            let filterSource = round % 5 == 4 ? h.sources[0] : nil
            var query =
                ("/api/v1/reports?from=\(from)&to=\(to)&tz=\(tz)&group_by=\(grouping)&workspace_id=\(h.workspaceID)"
                    + "&attribution=\(byConversion ? "conversion" : "click")")
            if let filterSource { query += "&traffic_source_id=\(filterSource)" }
            let answer = try h.api.get(query)
            #expect(answer.status == 200, "\(answer.text)")
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: tz)!
            func day(_ d: Date) -> String {
                let c = calendar.dateComponents([.year, .month, .day], from: d)
                return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
            }
            var filtered = h
            if let filterSource {
                filtered.clicks = h.clicks.filter { $0.source == filterSource }
                filtered.conversions = h.conversions.filter { $0.click.source == filterSource }
                filtered.spend = h.spend.filter { $0.source == filterSource }
            }
            let want: [String: (clicks: Int, conversions: Int, revenue: Decimal, cost: Decimal)]
            let rowKey: ([String: Any]) -> String
            switch grouping {
            case "traffic_source":
                want = expected(
                    filtered, from: from, to: to, tz: tz, byConversion: byConversion, key: { "\($0.source)" }, spendKey: { "\($0.source)" })
                rowKey = { "\($0["traffic_source_id"] as? Int ?? 0)" }
            case "campaign":
                want = expected(
                    filtered, from: from, to: to, tz: tz, byConversion: byConversion, key: { "\($0.campaign)" },
                    spendKey: { "\($0.campaign ?? 0)" })
                rowKey = { "\($0["campaign_id"] as? Int ?? 0)" }
            case "day":
                want = expected(filtered, from: from, to: to, tz: tz, byConversion: byConversion, key: { day($0.at) }, spendKey: { $0.day })
                rowKey = { $0["day"] as? String ?? "" }
            default:
                want = expected(filtered, from: from, to: to, tz: tz, byConversion: byConversion, key: { $0.zone }, spendKey: { _ in "" })
                rowKey = { $0["zone"] as? String ?? "" }
            }
            // With attribution by conversion time a conversion's day is its own, not its click's:
            // compare totals there, rows where the click's day decides.
            let rows = try #require(answer.json["rows"] as? [[String: Any]])
            var got: [String: (clicks: Int, conversions: Int, revenue: Decimal, cost: Decimal)] = [:]
            for row in rows {
                let k = rowKey(row)
                var v = got[k] ?? (0, 0, 0, 0)
                v.clicks += row["clicks"] as? Int ?? 0
                v.conversions += row["conversions"] as? Int ?? 0
                v.revenue += decimal(row["revenue"])
                v.cost += decimal(row["cost"])
                got[k] = v
            }
            let totals = try #require(answer.json["totals"] as? [String: Any])
            let sum = want.values.reduce((0, 0, Decimal(0), Decimal(0))) {
                ($0.0 + $1.clicks, $0.1 + $1.conversions, $0.2 + $1.revenue, $0.3 + $1.cost)
            }
            #expect(totals["clicks"] as? Int == sum.0, "\(query)")
            #expect(totals["conversions"] as? Int == sum.1, "\(query)")
            #expect(decimal(totals["revenue"]) == sum.2, "\(query)")
            #expect(decimal(totals["cost"]) == sum.3, "\(query)")
            if !(byConversion && grouping == "day") {
                for (k, v) in want where v.clicks + v.conversions > 0 || v.revenue != 0 || v.cost != 0 {
                    let g = got[k] ?? (0, 0, 0, 0)
                    #expect(
                        g.clicks == v.clicks && g.conversions == v.conversions && g.revenue == v.revenue && g.cost == v.cost,
                        "\(query) row \(k): \(g) ≠ \(v)")
                }
            }
        }
    }

    /// The roll-ups (campaign level and above) and the raw clicks (below it) give the same
    /// numbers, before and after the worker folds the deltas, and a late click (a spool
    /// replay) counts at once; a half-hour zone reads the raw clicks.
    @Test func rollupsAgreeWithTheRawClicksBeforeAndAfterFolding() throws {
        let h = try makeHistory(seed: 11)
        let base = "/api/v1/reports?from=2026-03-06&to=2026-03-30&tz=America/New_York&workspace_id=\(h.workspaceID)"
        /// Clicks, bot clicks and unique clicks by (time dimension, campaign), whatever else is grouped.
        func counts(_ groups: String, by time: String = "hour") throws -> [String: [Int]] {
            let answer = try h.api.get(base + "&group_by=" + groups)
            #expect(answer.status == 200, "\(answer.text)")
            var out: [String: [Int]] = [:]
            for row in answer.json["rows"] as? [[String: Any]] ?? [] {
                let k = "\(row[time] as? String ?? "-")|\(row["campaign_id"] as? Int ?? 0)"
                let v = out[k] ?? [0, 0, 0]
                out[k] = [
                    v[0] + (row["clicks"] as? Int ?? 0), v[1] + (row["bot_clicks"] as? Int ?? 0),
                    v[2] + (row["unique_clicks"] as? Int ?? 0),
                ]
            }
            return out.filter { $0.value != [0, 0, 0] }
        }
        func byHourAndCampaign(_ groups: String) throws -> [String: [Int]] { try counts(groups) }
        let raw = try byHourAndCampaign("hour,campaign,param:zone")
        #expect(raw.count > 100)
        #expect(try byHourAndCampaign("hour,campaign") == raw)
        try database.query("SELECT waymark_fold_click_rollups()")
        #expect(try byHourAndCampaign("hour,campaign") == raw)
        // A click replayed late into an hour already folded.
        let late = try #require(h.clicks.first { !$0.bot && $0.at > Date(timeIntervalSince1970: 1_772_900_000) })
        let lateAt = late.at.addingTimeInterval(1)
        try database.query(
            """
            INSERT INTO clicks (id, clicked_at, campaign_id, traffic_source_id, workspace_id, is_bot, is_unique, cost)
            VALUES (\(ClickID.make(at: lateAt)), to_timestamp(\(lateAt.timeIntervalSince1970)), \(late.campaign), \(late.source),
            \(h.workspaceID), false, false, 0.25)
            """)
        let after = try byHourAndCampaign("hour,campaign")
        #expect(after.values.reduce(0) { $0 + $1[0] } == raw.values.reduce(0) { $0 + $1[0] } + 1)
        #expect(after == (try byHourAndCampaign("hour,campaign,param:zone")))
        // Days in the workspace's zone from the daily roll-ups, against the raw clicks.
        try database.query("SELECT waymark_rebuild_daily_rollups(\(h.workspaceID), true)")
        #expect(
            try database.query("SELECT rollup_timezone FROM workspaces WHERE id = \(h.workspaceID)")[0]["rollup_timezone"]
                == "America/New_York")
        func byDay(_ groups: String) throws -> [String: [Int]] { try counts(groups, by: "day") }
        let rawDays = try byDay("day,campaign,param:zone")
        #expect(rawDays.count > 20)
        #expect(try byDay("day,campaign") == rawDays)
        // Asia/Kolkata (+05:30): the day cuts fall inside UTC hours, so the raw clicks answer.
        let kolkata = try h.api.get(
            "/api/v1/reports?from=2026-03-06&to=2026-03-20&tz=Asia/Kolkata&group_by=day&workspace_id=\(h.workspaceID)")
        var withLate = h
        withLate.clicks.append(
            Click(
                id: "late", at: lateAt, source: late.source, campaign: late.campaign, bot: false, unique: false,
                cost: Decimal(string: "0.25")!, zone: ""))
        let want = expected(
            withLate, from: "2026-03-06", to: "2026-03-20", tz: "Asia/Kolkata", byConversion: false, key: { _ in "" }, spendKey: { _ in "" }
        )
        #expect((kolkata.json["totals"] as? [String: Any])?["clicks"] as? Int == want[""]?.clicks)
        #expect(decimal((kolkata.json["totals"] as? [String: Any])?["cost"]) == want[""]?.cost)
    }

    /// The daily conversion roll-ups (day and campaign in the workspace's zone) give the raw
    /// conversions' numbers for both attributions: once cut, after status, payout and event
    /// changes not yet folded and folded, and with a conversion added and one deleted.
    @Test func conversionRollupsAgreeWithTheRawConversions() throws {
        let h = try makeHistory(seed: 13)
        let ws = h.workspaceID
        func counts(_ groups: String, attribution: String) throws -> [String: String] {
            let answer = try h.api.get(
                "/api/v1/reports?from=2026-03-05&to=2026-04-02&tz=America/New_York&workspace_id=\(ws)&attribution=\(attribution)"
                    + "&group_by=" + groups)
            #expect(answer.status == 200, "\(answer.text)")
            var out: [String: [Decimal]] = [:]
            for row in answer.json["rows"] as? [[String: Any]] ?? [] {
                let k = "\(row["day"] as? String ?? "-")|\(row["campaign_id"] as? Int ?? 0)"
                let v = out[k] ?? [0, 0, 0, 0]
                out[k] = [
                    v[0] + Decimal(row["conversions"] as? Int ?? 0), v[1] + Decimal(row["pending_conversions"] as? Int ?? 0),
                    v[2] + Decimal(row["declined_conversions"] as? Int ?? 0), v[3] + decimal(row["revenue"]),
                ]
            }
            return out.filter { $0.value != [0, 0, 0, 0] }.mapValues { "\($0)" }
        }
        func agree(_ step: String) throws {
            for attribution in ["click", "conversion"] {
                let raw = try counts("day,campaign,param:zone", attribution: attribution)
                #expect(raw.count > 20, "\(step)")
                #expect(try counts("day,campaign", attribution: attribution) == raw, "\(step), \(attribution)")
            }
        }
        try database.query("SELECT waymark_rebuild_daily_rollups(\(ws), true)")
        let cut = try database.query(
            """
            SELECT (SELECT sum(approved + pending + declined) FROM conversion_rollups_daily
                    WHERE workspace_id = \(ws) AND by_conversion)::bigint AS rolled,
                   (SELECT count(*) FROM conversions WHERE workspace_id = \(ws)) AS raw
            """)[0]
        #expect(cut["rolled"] == cut["raw"] && cut["raw"] != "0")
        try agree("cut")
        try database.query(
            """
            UPDATE conversions SET status = CASE status WHEN 'approved' THEN 'declined' ELSE 'approved' END,
                   payout = payout + 1, event_key = CASE WHEN id % 3 = 0 THEN 'lead' ELSE event_key END
            WHERE workspace_id = \(ws) AND id % 2 = 0
            """)
        try agree("changed, not folded")
        try database.query("SELECT waymark_fold_conversion_rollups()")
        try agree("changed and folded")
        let click = try #require(h.clicks.first { !$0.bot })
        try database.query(
            """
            INSERT INTO conversions (workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, dedupe_key,
                                     status, payout, currency, converted_at)
            VALUES (\(ws), \(click.id), to_timestamp(\(click.at.timeIntervalSince1970)), \(click.campaign), \(click.source), 'sale',
                    't:late', 'approved', 7.5, 'USD', to_timestamp(\(click.at.timeIntervalSince1970 + 5 * 86400)))
            """)
        try database.query("DELETE FROM conversions WHERE id = (SELECT min(id) FROM conversions WHERE workspace_id = \(ws))")
        try agree("added and deleted")
        try database.query("SELECT waymark_fold_conversion_rollups()")
        try agree("added, deleted and folded")
    }

    @Test func aChargebackChangesYesterdayAndCurrenciesConvert() throws {
        let h = try makeHistory(seed: 9)
        let conversion = try #require(h.conversions.first { $0.status == "approved" && $0.event == "sale" })
        let day = ISO8601DateFormatter().string(from: conversion.click.at).prefix(10)
        let query = "/api/v1/reports?from=\(day)&to=\(day)&tz=UTC&group_by=day&workspace_id=\(h.workspaceID)"
        let before = try h.api.get(query).json["totals"] as? [String: Any]
        try database.query("UPDATE conversions SET status = 'declined', updated_at = now() WHERE click_id = \(conversion.click.id)")
        let after = try h.api.get(query).json["totals"] as? [String: Any]
        #expect(decimal(before?["revenue"]) - decimal(after?["revenue"]) == conversion.payout)
        #expect((after?["declined_conversions"] as? Int ?? 0) >= 1)
        // In EUR at a known rate: 1 EUR = 2 USD on that day.
        try database.query(
            """
            INSERT INTO fx_rates (currency, day, rate) VALUES ('USD', \(String(day))::date, 2) ON CONFLICT (currency, day) DO UPDATE SET
            rate = 2
            """
        )
        let eur = try h.api.get(query + "&currency=EUR").json
        #expect(eur["currency"] as? String == "EUR")
        #expect(decimal((eur["totals"] as? [String: Any])?["revenue"]) * 2 == decimal(after?["revenue"]))
        // No rate for a currency at all: a warning, never 1:1.
        try database.query("DELETE FROM fx_rates WHERE currency = 'ISK'")
        let isk = try h.api.get(query + "&currency=ISK").json
        #expect((isk["warnings"] as? [String])?.isEmpty == false)
    }

    @Test func theDashboardShowsTheAPIsNumbersDrillsDownAndExports() throws {
        let h = try makeHistory(seed: 3)
        let api = try h.api.get(
            "/api/v1/reports?from=2026-03-05&to=2026-03-31&tz=UTC&group_by=traffic_source&workspace_id=\(h.workspaceID)"
        ).json
        let totals = try #require(api["totals"] as? [String: Any])
        let browser = TestBrowser()
        _ = try browser.login(h.email, "correct-horse-42")
        let page = try browser.get("/reports?preset=custom&from=2026-03-05&to=2026-03-31&tz=UTC&workspace_id=\(h.workspaceID)")
        #expect(page.status == 200)
        let cost = Metrics.text(decimal(totals["cost"]), places: 2)
        #expect(page.text.contains("<strong>\(cost)</strong>"))
        #expect(page.text.contains("<svg"))
        let drill = try browser.get(
            "/reports?preset=custom&from=2026-03-05&to=2026-03-31&tz=UTC&workspace_id=\(h.workspaceID)&traffic_source_id=\(h.sources[0])")
        #expect(drill.text.contains("Campaign 0-0"))
        let csv = try browser.get("/reports.csv?preset=custom&from=2026-03-05&to=2026-03-31&tz=UTC&workspace_id=\(h.workspaceID)")
        #expect(csv.text.hasPrefix("traffic_source,clicks,"))
        #expect(csv.text.contains("total,"))
        #expect(try browser.get("/reports/definitions").text.contains("revenue − cost"))
    }
}

/// A small deterministic generator (SplitMix64) so a failing history can be made again.
struct SeededRandom {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int((z ^ (z >> 31)) % UInt64(bound))
    }
}
