import Accounts
import Conversions
import Deliveries
import Foundation
import Integrations
import Reports
import Spend
import Tracking
import WaymarkCore
import Web

/// `/`: today, yesterday and the last 7 days against the period before (clicks, conversions,
/// revenue, cost, profit, ROI), the top sources and campaigns of the last 7 days, a chart of the
/// last 14 days, and what needs attention (failed deliveries, integrations to reconnect, feeds
/// failing or paused, clicks or postbacks waiting in a spool), each with its link.
struct HomePage {
    let reports: ReportRoutes
    let deliveries: DeliveryStore
    let integrations: IntegrationStore
    let feeds: SpendFeedStore
    let spool: ClickSpool
    let postbacks: PostbackReplayer
    var postbackSpool: PostbackSpool { postbacks.spool }

    static let summary = ["clicks", "conversions", "revenue", "cost", "profit", "roi"]

    func register(on router: Router) {
        router.get("/", reports.shell.page(home))
    }

    private func home(_ request: Request, _ actor: Actor) throws -> Response {
        // The shell's workspace filter (a cookie) narrows it; periods and groups are set below.
        let base = try reports.reportRequest(request, actor)
        let today = try reports.engine.today(in: base.timeZone)
        func day(_ offset: Int) -> String { Dates.day(Dates.parseDay(today)!.addingTimeInterval(Double(offset) * 86400)) }
        let periods = [
            ("Today", today, today, day(-1), day(-1)), ("Yesterday", day(-1), day(-1), day(-2), day(-2)),
            ("Last 7 days", day(-6), today, day(-13), day(-7)),
        ]
        let cards = try periods.map { name, from, to, beforeFrom, beforeTo -> [String: Any] in
            let now = try totals(base, from, to, actor), before = try totals(base, beforeFrom, beforeTo, actor)
            return [
                "name": name, "range": from == to ? from : "\(from) – \(to)",
                "metrics": HomePage.summary.map { key in
                    let metric = Metrics.byKey[key]!
                    return ReportRoutes.cell(metric, now, before: before).merging(["label": metric.label]) { a, _ in a }
                },
            ]
        }
        var week = base
        (week.from, week.to) = (day(-6), today)
        let chartDays = ReportPadding.days(day(-13), today)
        var byDay = base
        (byDay.from, byDay.to, byDay.groups) = (day(-13), today, [.day])
        let daily = try reports.engine.run(byDay, actor: actor)
        let charts = ["clicks", "revenue", "profit"].map { key -> [String: String] in
            let metric = Metrics.byKey[key]!
            let values = Dictionary(daily.rows.map { ($0.labels[0], metric.value($0.sums) ?? 0) }, uniquingKeysWith: { a, _ in a })
            return [
                "label": metric.label,
                "svg": ReportChart.svg(days: chartDays, values: values, label: metric.label, places: key == "clicks" ? 0 : 2),
            ]
        }
        let workspaces = try workspaceList(request, actor)
        return try reports.shell.render(
            request, actor: actor, template: "dashboard", title: "Home",
            context: [
                "periods": cards, "currency": base.currency, "timezone": base.timeZone, "charts": charts,
                "top_sources": try top(week, .trafficSource, actor), "top_campaigns": try top(week, .campaign, actor),
                "attention": try attention(actor), "week_href": "/reports?preset=last7", "workspaces": workspaces,
                "has_workspaces": !workspaces.isEmpty,
            ], section: "dashboard")
    }

    /// The workspaces the numbers cover (the shell's workspace filter narrows them).
    private func workspaceList(_ request: Request, _ actor: Actor) throws -> [[String: Any]] {
        let filter = reports.shell.workspaceFilter(request, actor)
        return try reports.workspaces.list(for: actor).filter { filter == nil || $0.id == filter }.map {
            ["id": $0.id, "name": $0.name, "currency": $0.currency, "timezone": $0.timezone]
        }
    }

    private func totals(_ base: ReportRequest, _ from: String, _ to: String, _ actor: Actor) throws -> Metrics.Sums {
        var r = base
        (r.from, r.to, r.groups) = (from, to, [.trafficSource])
        return try reports.engine.run(r, actor: actor).totals
    }

    /// The five rows of a grouping with the most revenue, then clicks.
    private func top(_ r: ReportRequest, _ group: ReportRequest.Group, _ actor: Actor) throws -> [[String: Any]] {
        var request = r
        request.groups = [group]
        let rows = try reports.engine.run(request, actor: actor).rows
        let (revenue, clicks) = (Metrics.byKey["revenue"]!, Metrics.byKey["clicks"]!)
        return rows.sorted {
            ((revenue.value($0.sums) ?? 0), (clicks.value($0.sums) ?? 0)) > ((revenue.value($1.sums) ?? 0), (clicks.value($1.sums) ?? 0))
        }
        .prefix(5).map { row in
            var item: [String: Any] = ["label": row.labels.joined(separator: " · ")]
            for key in ["clicks", "conversions", "revenue", "cost", "profit"] { item[key] = Metrics.display(Metrics.byKey[key]!, row.sums) }
            let key = group == .trafficSource ? "traffic_source_id" : "campaign_id"
            if let id = row.dimensions[key]?.id { item["href"] = "/reports?preset=last7&\(key)=\(id)" }
            return item
        }
    }

    private func attention(_ actor: Actor) throws -> [[String: String]] {
        var items: [[String: String]] = []
        let failed = try deliveries.counts(for: actor).filter { $0.state == "failed" }.compactMap { Int($0.count) }.reduce(0, +)
        if failed > 0 { items.append(["text": "\(failed) deliveries failed", "href": "/status"]) }
        for (integration, source) in try integrations.all(for: actor) where integration.status == .error {
            let name = integrations.providers[integration.provider]?.name ?? integration.provider
            items.append([
                "text": "\(name) on \(source) needs reconnecting",
                "href": "/traffic-sources/\(integration.sourceID)/integrations/\(integration.provider)",
            ])
        }
        for feed in try feeds.failing(for: actor) {
            items.append([
                "text": "Spend feed \(feed["name"] ?? "") is \(feed["status"] ?? "failing")",
                "href": "/traffic-sources/\(feed["source_id"] ?? "")/spend-feeds/\(feed["id"] ?? "")",
            ])
        }
        if spool.pendingBytes > 0 || postbackSpool.pendingBytes > 0 {
            items.append(["text": "Clicks or postbacks are waiting in the spool for the database", "href": "/status"])
        }
        return items
    }
}
