import Accounts
import Catalog
import Foundation
import Reports
import Spend
import WaymarkCore
import Web

/// `GET /api/v1/reports` (docs/reports.md), the dashboard with drill-down, chart and CSV export, and
/// the metric definitions page: all on ReportEngine and the Metrics registry.
struct ReportRoutes {
    let shell: AdminShell
    let engine: ReportEngine
    let workspaces: WorkspaceStore
    let sources: TrafficSourceStore
    let campaigns: CampaignStore

    func register(on router: Router) {
        router.get("/api/v1/reports", shell.api(apiReport))
        router.get("/reports", shell.page(dashboard))
        router.get("/reports.csv", shell.page(csv))
        router.post("/reports/columns", shell.page(saveColumns))
        router.get("/reports/definitions", shell.page(definitions))
    }

    private func apiReport(_ request: Request, _ actor: Actor) throws -> Response {
        .json(ReportAnswer(try engine.run(try reportRequest(request, actor), actor: actor)))
    }

    private func definitions(_ request: Request, _ actor: Actor) throws -> Response {
        try shell.render(
            request, actor: actor, template: "reports/definitions", title: "Metric definitions",
            context: ["metrics": Metrics.all.map { ["key": $0.key, "label": $0.label, "definition": $0.definition] }], section: "reports")
    }

    /// The request with the workspace's time zone and currency as defaults.
    func reportRequest(_ request: Request, _ actor: Actor) throws -> ReportRequest {
        let visible = try workspaces.list(for: actor)
        let workspaceID = request.queryValue("workspace_id").flatMap { Int64($0) } ?? shell.workspaceFilter(request, actor)
        let workspace = visible.first { $0.id == workspaceID } ?? (visible.count == 1 ? visible.first : nil)
        var r = try ReportRequest(request, defaults: (workspace?.timezone ?? "UTC", workspace?.currency ?? "USD"))
        if r.workspaceID == nil, let workspaceID, request.queryValue("workspace_id") == nil { r.workspaceID = workspaceID }
        return r
    }

    // MARK: pages

    /// Period presets, in the report's time zone.
    static func preset(_ name: String, today: String) -> (String, String)? {
        guard let t = Dates.parseDay(today) else { return nil }
        let parts = today.split(separator: "-").map { Int($0)! }
        func day(_ offset: Int) -> String { Dates.day(t.addingTimeInterval(Double(offset) * 86400)) }
        switch name {
        case "today": return (today, today)
        case "yesterday": return (day(-1), day(-1))
        case "last7": return (day(-6), today)
        case "last30": return (day(-29), today)
        case "this_month": return (String(format: "%04d-%02d-01", parts[0], parts[1]), today)
        case "last_month":
            let (y, m) = parts[1] == 1 ? (parts[0] - 1, 12) : (parts[0], parts[1] - 1)
            let first = String(format: "%04d-%02d-01", y, m)
            let last = Dates.day(Dates.parseDay(String(format: "%04d-%02d-01", parts[0], parts[1]))!.addingTimeInterval(-86400))
            return (first, last)
        default: return nil
        }
    }

    /// The page's query: a preset becomes from/to; the drill level picks the grouping.
    func pageRequest(_ request: Request, _ actor: Actor) throws -> (ReportRequest, [(String, String)]) {
        var query = request.query.filter { !["from", "to", "group_by", "sort", "dir"].contains($0.0) || !($0.1.isEmpty) }
        let tz = request.queryValue("tz").flatMap { $0.isEmpty ? nil : $0 }
        let base = try reportRequest(
            Request(method: "GET", path: "/", query: URLEncoding.formString(query.filter { $0.0 != "preset" })), actor)
        let zone = tz ?? base.timeZone
        let today = try engine.today(in: zone)
        let presetName = request.queryValue("preset") ?? (request.queryValue("from") == nil ? "last7" : "custom")
        if let (from, to) = ReportRoutes.preset(presetName, today: today) {
            query.removeAll { $0.0 == "from" || $0.0 == "to" }
            query += [("from", from), ("to", to)]
        }
        if request.queryValue("group_by") == nil {
            let group: String
            if request.queryValue("campaign_id").map({ !$0.isEmpty }) == true {
                group = request.queryValue("param").flatMap { $0.isEmpty ? nil : "param:" + $0 } ?? "day"
            } else if request.queryValue("traffic_source_id").map({ !$0.isEmpty }) == true {
                group = "campaign"
            } else {
                group = "traffic_source"
            }
            query.append(("group_by", group))
        }
        var r = try ReportRequest(Request(method: "GET", path: "/", query: URLEncoding.formString(query)), defaults: (zone, base.currency))
        r.workspaceID = r.workspaceID ?? base.workspaceID
        return (r, query)
    }

    /// Exactly what the page shows, as CSV (dimension columns, then every metric).
    private func csv(_ request: Request, _ actor: Actor) throws -> Response {
        let (r, _) = try pageRequest(request, actor)
        var result = try engine.run(r, actor: actor)
        ReportRoutes.sort(&result.rows, by: request.queryValue("sort"), descending: request.queryValue("dir") != "asc")
        var lines = [(r.groups.map(\.key) + Metrics.all.map(\.key)).map(ReportRoutes.csvField).joined(separator: ",")]
        for row in result.rows {
            lines.append(
                (row.labels + Metrics.all.map { Metrics.display($0, row.sums, moneyPlaces: 4) }).map(ReportRoutes.csvField).joined(
                    separator: ","))
        }
        lines.append(
            ((["total"] + Array(repeating: "", count: max(0, r.groups.count - 1)))
                + Metrics.all.map { Metrics.display($0, result.totals, moneyPlaces: 4) })
                .map(ReportRoutes.csvField).joined(separator: ","))
        return Response(
            status: 200,
            headers: [
                ("Content-Type", "text/csv; charset=utf-8"),
                ("Content-Disposition", "attachment; filename=\"waymark-report-\(r.from)-\(r.to).csv\""),
            ],
            body: Array((lines.joined(separator: "\r\n") + "\r\n").utf8))
    }

    static func csvField(_ s: String) -> String {
        // A leading =, +, - or @ would be a formula in a spreadsheet.
        var v = s
        if let first = v.first, "=+@".contains(first) || (first == "-" && Double(v) == nil) { v = "'" + v }
        return v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : v
    }

    /// Rows by a metric (rows without a value last when descending); unknown keys keep the order.
    static func sort(_ rows: inout [ReportRow], by key: String?, descending: Bool) {
        guard let key, let metric = Metrics.byKey[key] else { return }
        rows.sort { a, b in
            let x = metric.value(a.sums) ?? -Decimal.greatestFiniteMagnitude,
                y = metric.value(b.sums) ?? -Decimal.greatestFiniteMagnitude
            return descending ? x > y : x < y
        }
    }
}
