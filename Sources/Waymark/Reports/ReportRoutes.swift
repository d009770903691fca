import Accounts
import Catalog
import Foundation
import Postgres
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
        router.get(
            "/api/v1/reports",
            shell.api { request, actor in
                let result = try engine.run(try reportRequest(request, actor), actor: actor)
                var answer: [String: Any] = [
                    "currency": result.request.currency, "tz": result.request.timeZone,
                    "rows": result.rows.map { row in
                        ReportRoutes.json(row.dimensions).merging(ReportRoutes.metricsJSON(row.sums)) { a, _ in a }
                    },
                    "totals": ReportRoutes.metricsJSON(result.totals),
                ]
                if !result.warnings.isEmpty { answer["warnings"] = result.warnings }
                return .jsonObject(answer)
            })
        router.get("/reports", shell.page(dashboard))
        router.get("/reports.csv", shell.page(csv))
        router.get(
            "/reports/definitions",
            shell.page { request, actor in
                try shell.render(
                    request, actor: actor, template: "reports/definitions", title: "Metric definitions",
                    context: [
                        "metrics": Metrics.all.map { ["key": $0.key, "label": $0.label, "definition": $0.definition] }
                    ], section: "reports")
            })
    }

    static func json(_ dimensions: [String: Any?]) -> [String: Any] {
        dimensions.mapValues { $0 ?? NSNull() }
    }

    static func metricsJSON(_ sums: Metrics.Sums) -> [String: Any] {
        Dictionary(uniqueKeysWithValues: Metrics.all.map { ($0.key, Metrics.json($0, sums)) })
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

    private func dashboard(_ request: Request, _ actor: Actor) throws -> Response {
        let (r, query) = try pageRequest(request, actor)
        var result = try engine.run(r, actor: actor)
        let sortKey = request.queryValue("sort").flatMap { Metrics.byKey[$0] != nil ? $0 : nil }
        let descending = request.queryValue("dir") != "asc"
        if let key = sortKey, let metric = Metrics.byKey[key] {
            result.rows.sort { a, b in
                let x = metric.value(a.sums) ?? -Decimal.greatestFiniteMagnitude,
                    y = metric.value(b.sums) ?? -Decimal.greatestFiniteMagnitude
                return descending ? x > y : x < y
            }
        }
        let keep = query.filter { !["sort", "dir"].contains($0.0) }
        func link(_ changes: [(String, String?)], drop: [String] = []) -> String {
            var q = keep.filter { pair in !drop.contains(pair.0) && !changes.contains { $0.0 == pair.0 } }
            for (k, v) in changes { if let v { q.append((k, v)) } }
            return "/reports?" + URLEncoding.formString(q)
        }
        let drillable = r.groups.count == 1
        let rows: [[String: Any]] = result.rows.map { row in
            var item: [String: Any] = [
                "label": row.labels.joined(separator: " · "), "cells": Metrics.all.map { ["value": Metrics.display($0, row.sums)] },
            ]
            if drillable, r.groups == [.trafficSource], let id = row.dimensions["traffic_source_id"] as? Int64 {
                item["href"] = link([("traffic_source_id", String(id)), ("group_by", nil)], drop: ["group_by"])
            } else if drillable, r.groups == [.campaign], let id = row.dimensions["campaign_id"] as? Int64 {
                item["href"] = link([("campaign_id", String(id)), ("group_by", nil)], drop: ["group_by", "param"])
            }
            return item
        }
        // Breadcrumbs: all sources › source › campaign › parameter.
        var crumbs: [[String: Any]] = [
            ["label": "All sources", "href": link([], drop: ["traffic_source_id", "campaign_id", "param", "group_by"])]
        ]
        var parameterChoices: [[String: Any]] = []
        let campaignLabel = try r.campaignID.flatMap { try campaigns.label($0, for: actor) }
        if let sourceID = r.sourceID ?? campaignLabel?.trafficSourceID {
            let source = try sources.label(sourceID, for: actor)
            crumbs.append([
                "label": source?.name ?? "Source \(sourceID)",
                "href": link([("traffic_source_id", String(sourceID))], drop: ["campaign_id", "param", "group_by"]),
            ])
            if let campaignID = r.campaignID {
                let campaign = campaignLabel?.name ?? "Campaign \(campaignID)"
                crumbs.append(["label": campaign, "href": link([("campaign_id", String(campaignID))], drop: ["param", "group_by"])])
                let parameters = source?.parameters ?? []
                parameterChoices = ([("day", "by day")] + parameters.map { ($0.name, $0.name) }).map { key, label in
                    let active = key == "day" ? r.groups == [.day] : r.groups == [.param(key)]
                    return [
                        "label": label,
                        "href": key == "day" ? link([], drop: ["param", "group_by"]) : link([("param", key)], drop: ["group_by"]),
                        "active": active,
                    ]
                }
                if case .param(let p) = r.groups.first { crumbs.append(["label": p, "href": ""]) }
            }
        }
        let chartMetrics = (request.queryValue("chart") ?? "clicks,conversions,cost,revenue").split(separator: ",").map(String.init).filter
        { Metrics.byKey[$0] != nil }
        var dayRequest = r
        dayRequest.groups = [.day]
        let byDay = try engine.run(dayRequest, actor: actor)
        let charts = chartMetrics.prefix(4).map { key in
            [
                "label": Metrics.byKey[key]!.label,
                "svg": ReportChart.svg(
                    days: ReportRoutes.days(r.from, r.to),
                    values: Dictionary(
                        byDay.rows.map { ($0.labels[0], Metrics.byKey[key]!.value($0.sums) ?? 0) }, uniquingKeysWith: { a, _ in a })),
            ]
        }
        let headers = Metrics.all.map { m -> [String: Any] in
            let active = sortKey == m.key
            return [
                "label": m.label, "key": m.key, "href": link([("sort", m.key), ("dir", active && descending ? "asc" : "desc")]),
                "arrow": active ? (descending ? "▼" : "▲") : "",
            ]
        }
        let presets = [
            ("today", "Today"), ("yesterday", "Yesterday"), ("last7", "Last 7 days"), ("last30", "Last 30 days"),
            ("this_month", "This month"), ("last_month", "Last month"),
        ]
        let presetName = request.queryValue("preset") ?? (request.queryValue("from") == nil ? "last7" : "custom")
        return try shell.render(
            request, actor: actor, template: "reports/dashboard", title: "Reports",
            context: [
                "rows": rows, "headers": headers, "dimension": r.groups.map(\.key).joined(separator: " · "),
                "totals": Metrics.all.map { ["value": Metrics.display($0, result.totals)] },
                "from": r.from, "to": r.to, "tz": r.timeZone, "currency": r.currency,
                "by_conversion": r.byConversionTime,
                "presets": presets.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == presetName] },
                "custom": presetName == "custom",
                "hidden": keep.filter { ["traffic_source_id", "campaign_id", "param", "workspace_id"].contains($0.0) }.map {
                    ["name": $0.0, "value": $0.1]
                },
                "crumbs": crumbs, "parameters": parameterChoices, "has_parameters": !parameterChoices.isEmpty,
                "charts": charts, "warnings": result.warnings,
                "csv_href": "/reports.csv?"
                    + URLEncoding.formString(
                        keep + (request.queryValue("sort").map { [("sort", $0), ("dir", descending ? "desc" : "asc")] } ?? [])),
            ], section: "reports")
    }

    /// Exactly what the page shows, as CSV (dimension columns, then every metric).
    private func csv(_ request: Request, _ actor: Actor) throws -> Response {
        let (r, _) = try pageRequest(request, actor)
        var result = try engine.run(r, actor: actor)
        if let key = request.queryValue("sort"), let metric = Metrics.byKey[key] {
            let descending = request.queryValue("dir") != "asc"
            result.rows.sort { a, b in
                let x = metric.value(a.sums) ?? -Decimal.greatestFiniteMagnitude,
                    y = metric.value(b.sums) ?? -Decimal.greatestFiniteMagnitude
                return descending ? x > y : x < y
            }
        }
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

    static func days(_ from: String, _ to: String) -> [String] {
        guard var d = Dates.parseDay(from), let end = Dates.parseDay(to) else { return [] }
        var out: [String] = []
        while d <= end && out.count < 400 {
            out.append(Dates.day(d))
            d = d.addingTimeInterval(86400)
        }
        return out
    }
}

/// A small line chart as inline SVG (no script), one per metric.
enum ReportChart {
    static func svg(days: [String], values: [String: Decimal]) -> String {
        let width = 320.0, height = 90.0, pad = 4.0
        let series = days.map { NSDecimalNumber(decimal: values[$0] ?? 0).doubleValue }
        let maxValue = max(series.max() ?? 0, 1e-9)
        let minValue = min(series.min() ?? 0, 0)
        let step = days.count > 1 ? (width - 2 * pad) / Double(days.count - 1) : 0
        let points = series.enumerated().map { i, v in
            String(format: "%.1f,%.1f", pad + Double(i) * step, height - pad - (v - minValue) / (maxValue - minValue) * (height - 2 * pad))
        }.joined(separator: " ")
        let label = "\(days.first ?? "") – \(days.last ?? ""), max \(Metrics.text(Decimal(maxValue), places: 2))"
        return """
            <svg viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" height="\(Int(height))" role="img" aria-label="\(label)" preserveAspectRatio="none">\
            <polyline fill="none" stroke="currentColor" stroke-width="2" points="\(points)"/></svg>
            """
    }
}
