import Accounts
import Foundation
import Glibc
import Postgres
import Synchronization
import Testing
import WaymarkCore
import WaymarkTesting

/// Two workers (the stack's and one more), extra folds from other sessions, clicks and
/// conversions written, changed and deleted meanwhile, and the workspace's zone changed under
/// them (a rebuild each time): afterwards every roll-up equals the raw rows it sums — nothing
/// folded twice, nothing lost.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(3)), .serialized) struct WorkerConcurrencyIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 6)

    /// A workspace with one source and two campaigns, made through the API.
    func setUp() throws -> (workspace: Int, source: Int, campaigns: [Int]) {
        let email = "workers-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        _ = try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let ws = try #require(
            try api.postJSON("/api/v1/workspaces", ["name": "W \(uniqueSuffix())", "timezone": "Europe/Berlin", "currency": "USD"])
                .json["id"] as? Int)
        let source = try #require(
            try api.postJSON("/api/v1/traffic-sources", ["name": "S \(uniqueSuffix())", "workspace_id": ws, "cost_currency": "USD"])
                .json["id"] as? Int)
        var campaigns: [Int] = []
        for c in 0..<2 {
            campaigns.append(
                try #require(
                    try api.postJSON(
                        "/api/v1/campaigns",
                        [
                            "name": "C\(c)", "traffic_source_id": source, "destination_url": "https://o.example/",
                            "cost_model": ["type": "cpc", "amount": "0.10"],
                        ]
                    ).json["id"] as? Int))
        }
        return (ws, source, campaigns)
    }

    @Test func rollupsStayExactWithTwoWorkersFoldingAndRebuilding() throws {
        let (ws, source, campaigns) = try setUp()
        for day in 0..<12 { try database.query("SELECT waymark_ensure_click_partition(date '2026-03-04' + \(day)::int)") }
        try withSecondWorker {
            let stop = Atomic<Bool>(false)
            let errors = Mutex<[String]>([])
            let group = DispatchGroup()
            func loop(_ name: String, _ body: @escaping @Sendable (Int) throws -> Void) {
                DispatchQueue.global().async(group: group) {
                    var i = 0
                    while !stop.load(ordering: .acquiring) {
                        do { try body(i) } catch { errors.withLock { $0.append("\(name): \(error)") } }
                        i += 1
                    }
                }
            }
            let start = 1_772_668_800  // 2026-03-05T00:00:00Z
            let db = database
            loop("writer") { i in
                // 20 clicks and 4 conversions a round, at times over ten days; some conversions change or go.
                var values: [String] = []
                for k in 0..<20 {
                    let at = start + (i * 7919 + k * 104_729) % (10 * 86400)
                    let id = ClickID.make(at: Date(timeIntervalSince1970: Double(at)))
                    values.append(
                        "('\(id)', to_timestamp(\(at)), \(campaigns[k % 2]), \(source), \(ws), \(k % 5 == 0), \(k % 3 != 0), 0.10)")
                }
                try db.query(
                    PostgresQuery(
                        unescaped:
                            "INSERT INTO clicks (id, clicked_at, campaign_id, traffic_source_id, workspace_id, is_bot, is_unique, cost) "
                            + "VALUES " + values.joined(separator: ", ")))
                for k in 0..<4 {
                    let at = start + (i * 3571 + k * 65_537) % (10 * 86400)
                    try db.query(
                        """
                        INSERT INTO conversions (workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, dedupe_key,
                                                 status, payout, currency, converted_at)
                        VALUES (\(ws), \("c\(i)-\(k)"), to_timestamp(\(at)), \(campaigns[k % 2]), \(source), 'sale', \("d\(i)-\(k)-\(ws)"),
                                \(k == 3 ? "pending" : "approved"), \("\(k + 1).25")::numeric, 'USD',
                                to_timestamp(\(at + (k + 1) * 20_000)))
                        """)
                }
                if i % 3 == 2 {
                    try db.query(
                        """
                        UPDATE conversions SET status = CASE status WHEN 'approved' THEN 'declined' ELSE 'approved' END, payout = payout + 1
                        WHERE workspace_id = \(ws) AND id % 4 = \(i % 4)
                        """)
                }
                if i % 5 == 4 {
                    try db.query("DELETE FROM conversions WHERE id = (SELECT min(id) FROM conversions WHERE workspace_id = \(ws))")
                }
            }
            for n in 0..<2 {
                loop("folder \(n)") { _ in
                    try db.query("SELECT waymark_fold_click_rollups()")
                    try db.query("SELECT waymark_fold_conversion_rollups()")
                }
            }
            // Cuts anew all the time, on top of the workers' (a conversion written during a cut must
            // count once); Kolkata's offsets are not whole hours, so it has no days.
            loop("rebuilder") { _ in
                try db.query(
                    """
                    SELECT waymark_rebuild_daily_rollups(\(ws), (SELECT timezone <> 'Asia/Kolkata' FROM workspaces WHERE id = \(ws)))
                    """)
                usleep(50_000)
            }
            // Each change of zone makes both workers want to cut the days anew.
            let zones = ["America/New_York", "Asia/Kolkata", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]
            for zone in zones {
                usleep(1_500_000)
                try database.query("UPDATE workspaces SET timezone = \(zone) WHERE id = \(ws)")
            }
            usleep(1_000_000)
            stop.store(true, ordering: .releasing)
            group.wait()
            #expect(errors.withLock { $0 }.isEmpty, "\(errors.withLock { $0.prefix(3) })")
            // The workers fold what is left and cut the days in the last zone.
            #expect(
                waitUntil(seconds: 60) {
                    let row = try? database.query(
                        """
                        SELECT (SELECT count(*) FROM click_rollup_deltas WHERE workspace_id = \(ws))
                             + (SELECT count(*) FROM conversion_rollup_deltas WHERE workspace_id = \(ws)) AS pending,
                               (SELECT rollup_timezone = timezone FROM workspaces WHERE id = \(ws)) AS cut
                        """)[0]
                    return row?["pending"] == "0" && row?["cut"] == "t"
                })
            let clicks: Int = try database.query("SELECT count(*)::int AS n FROM clicks WHERE workspace_id = \(ws)")[0].decode("n")
            #expect(clicks > 200)
            for (what, rolled, raw) in comparisons(ws) {
                let extra = try database.query(PostgresQuery(unescaped: "(\(rolled)) EXCEPT (\(raw))"))
                let missing = try database.query(PostgresQuery(unescaped: "(\(raw)) EXCEPT (\(rolled))"))
                #expect(extra.isEmpty && missing.isEmpty, "\(what): \(extra.count) rows only in the roll-ups, \(missing.count) only raw")
            }
        }
    }

    /// (what, the roll-ups' rows, the raw rows' sums) for the hourly and daily clicks and the
    /// daily conversions by either attribution; rows that sum to nothing are left out.
    func comparisons(_ ws: Int) -> [(String, String, String)] {
        let zone = "(SELECT timezone FROM workspaces WHERE id = \(ws))"
        // As the roll-ups count them: clicks and unique clicks leave bots out, cost is every click's.
        let clickSums = """
            count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot),
            count(*) FILTER (WHERE is_unique AND NOT is_bot), sum(cost)
            """
        func rolledClicks(_ table: String, _ time: String) -> String {
            """
            SELECT \(time), campaign_id, sum(clicks)::bigint, sum(bot_clicks)::bigint, sum(unique_clicks)::bigint, sum(cost)
            FROM \(table) WHERE workspace_id = \(ws) GROUP BY 1, 2 HAVING sum(clicks) + sum(bot_clicks) <> 0
            """
        }
        func rawClicks(_ time: String) -> String {
            "SELECT \(time), campaign_id, \(clickSums) FROM clicks WHERE workspace_id = \(ws) GROUP BY 1, 2"
        }
        var out = [
            ("hourly clicks", rolledClicks("click_rollups", "hour"), rawClicks("date_trunc('hour', clicked_at)")),
            ("daily clicks", rolledClicks("click_rollups_daily", "day"), rawClicks("(clicked_at AT TIME ZONE \(zone))::date")),
        ]
        for (attribution, column) in [("false", "clicked_at"), ("true", "converted_at")] {
            out.append(
                (
                    "daily conversions by \(column)",
                    """
                    SELECT day, campaign_id, event_key, sum(approved)::bigint, sum(pending)::bigint, sum(declined)::bigint,
                           sum(approved_payout)
                    FROM conversion_rollups_daily WHERE workspace_id = \(ws) AND by_conversion = \(attribution) GROUP BY 1, 2, 3
                    HAVING sum(approved) <> 0 OR sum(pending) <> 0 OR sum(declined) <> 0
                    """,
                    """
                    SELECT (\(column) AT TIME ZONE \(zone))::date, campaign_id, event_key, count(*) FILTER (WHERE status = 'approved'),
                           count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'declined'),
                           coalesce(sum(payout) FILTER (WHERE status = 'approved'), 0)
                    FROM conversions WHERE workspace_id = \(ws) GROUP BY 1, 2, 3
                    """
                ))
        }
        return out
    }
}
