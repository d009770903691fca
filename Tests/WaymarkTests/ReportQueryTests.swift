import Foundation
import Postgres
import Reports
import Testing
import WaymarkCore
import Web

/// The report's plan and SQL, built without a database.
@Suite struct ReportQueryTests {
    static let admin = Actor(userID: 1, email: "a@example.com", role: .admin, workspaceIDs: [], channel: .token)

    func request(_ query: String) throws -> ReportRequest {
        try ReportRequest(Request(method: "GET", path: "/", query: query), defaults: (tz: "UTC", currency: "USD"))
    }

    @Test func campaignLevelGroupingsReadTheRollupsInWholeHourZones() throws {
        for groups in ["traffic_source", "campaign", "day,event", "hour,campaign"] {
            let r = try request("from=2026-01-01&to=2026-01-07&group_by=\(groups)")
            #expect(ReportPlan(r, wholeHours: true, slots: [:]).useRollups, "\(groups)")
            #expect(!ReportPlan(r, wholeHours: false, slots: [:]).useRollups, "\(groups)")
        }
        for groups in ["param:zone", "country", "campaign,device"] {
            let r = try request("from=2026-01-01&group_by=\(groups)")
            #expect(!ReportPlan(r, wholeHours: true, slots: [:]).useRollups, "\(groups)")
        }
    }

    @Test func dailyRollupsServeWholeDaysOfTheWorkspacesCutInTheZone() throws {
        let byHour = try request("from=2026-01-01&group_by=hour")
        #expect(!ReportPlan(byHour, wholeHours: true, slots: [:]).readsDailyRollups(byHour))
        let utc = try request("from=2026-01-01&group_by=day&workspace_id=4")
        var plan = ReportPlan(utc, wholeHours: true, slots: [:])
        #expect(plan.readsDailyRollups(utc))
        plan.setDailyWorkspaces([4, 9], for: utc)
        // Public sources' days are cut in UTC (workspace 0).
        #expect(plan.dailyWorkspaces == [4, 9, 0])
        #expect(plan.onlyDaily)
        let berlin = try request("from=2026-01-01&group_by=day&tz=Europe/Berlin")
        var other = ReportPlan(berlin, wholeHours: true, slots: [:])
        other.setDailyWorkspaces([9], for: berlin)
        #expect(other.dailyWorkspaces == [9] && !other.onlyDaily)
    }

    @Test func rollupPlansReadTheRollupTablesAndOthersTheClicks() throws {
        let r = try request("from=2026-01-01&group_by=campaign")
        let rollups = ReportQuery(r, plan: ReportPlan(r, wholeHours: true, slots: [:]), actor: Self.admin).sql.sql
        #expect(rollups.contains("FROM click_rollups_daily") && rollups.contains("FROM click_rollup_deltas"))
        #expect(!rollups.contains("FROM clicks WHERE"))
        #expect(rollups.contains("GROUP BY u.d_campaign"))
        let raw = ReportQuery(r, plan: ReportPlan(r, wholeHours: false, slots: [:]), actor: Self.admin).sql.sql
        #expect(raw.contains("FROM clicks ck") && raw.contains("WHERE ck.clicked_at >=") && !raw.contains("click_rollups"))
        // Each raw click with its click-through: its offer and its lander click.
        #expect(raw.contains("LEFT JOIN lander_clicks lc") && raw.contains("coalesce(ck.offer_id, lc.offer_id) AS effective_offer_id"))
    }

    @Test func flowGroupingsReadTheRollupsAndFilterByFlowAndPath() throws {
        let r = try request("from=2026-01-01&group_by=flow,path,lander,offer&flow_id=4&path=1")
        #expect(r.flowID == 4 && r.flowPath == 1)
        let plan = ReportPlan(r, wholeHours: true, slots: [:])
        #expect(plan.useRollups)
        let query = ReportQuery(r, plan: plan, actor: Self.admin).sql
        #expect(query.sql.contains("GROUP BY u.d_flow, u.d_pflow, u.d_path, u.d_lander, u.d_offer"))
        #expect(query.sql.contains("offer_id AS effective_offer_id") && query.sql.contains("k.effective_offer_id AS d_offer"))
        // Conversions carry their own offer; spend has no flow, so a flow filter leaves it out.
        #expect(query.sql.contains("v.offer_id AS d_offer") && query.sql.contains("NULL::bigint AS d_offer"))
        #expect(query.sql.contains("k.flow_path = $") && query.sql.contains("v.flow_id = $"))
        #expect(query.binds.contains("4") && query.binds.contains("1"))
        #expect(ReportQuery.extraColumns(r.groups) == ["d_flow", "d_pflow", "d_path", "d_lander", "d_offer"])
        #expect(throws: HTTPError.self) { try request("from=2026-01-01&path=1") }
        #expect(throws: HTTPError.self) { try request("from=2026-01-01&flow_id=4&path=-1") }
        #expect(throws: HTTPError.self) { try request("from=2026-01-01&group_by=funnel") }
    }

    @Test func parametersReadTheirSlotPerSourceAndJoinConversionsToTheirClick() throws {
        let r = try request("from=2026-01-01&group_by=param:zone,country")
        let plan = ReportPlan(r, wholeHours: true, slots: [7: ["zone": 3], 8: ["site": 1]])
        #expect(plan.params == ["zone"] && plan.paramColumn("zone") == "d_p0")
        let sql = ReportQuery(r, plan: plan, actor: Self.admin).sql.sql
        #expect(sql.contains("(CASE k.traffic_source_id WHEN 7 THEN k.p3 ELSE k.extra ->> $"))
        #expect(sql.contains("LEFT JOIN clicks k ON k.id = v.click_id"))
        #expect(sql.contains("GROUP BY u.d_p0, u.d_country"))
        #expect(ReportQuery.extraColumns(r.groups) == ["d_p0", "d_country"])
    }

    @Test func withoutDimensionsTheOuterQueryHasNoGrouping() {
        #expect(ReportQuery.requestedColumns([], params: []).isEmpty)
        #expect(
            ReportQuery.requestedColumns([.day, .hour, .param("b"), .param("a")], params: ["b", "a"]) == [
                "u.d_day", "u.d_hour", "u.d_offset", "u.d_p0", "u.d_p1",
            ])
    }

    @Test func aMemberSeesOnlyPublicAndTheirWorkspaces() throws {
        let member = Actor(userID: 2, email: "m@example.com", role: .member, workspaceIDs: [5], channel: .session)
        let r = try request("from=2026-01-01")
        let query = ReportQuery(r, plan: ReportPlan(r, wholeHours: true, slots: [:]), actor: member).sql
        #expect(query.sql.contains("(k.workspace_id IS NULL OR k.workspace_id = ANY("))
        #expect(query.sql.contains("(e.workspace_id IS NULL OR e.workspace_id = ANY("))
        #expect(query.binds.contains(#"{"5"}"#))
    }
}
