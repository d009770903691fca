import Catalog
import Foundation
import Reports
import WaymarkCore
import Web

/// `/reports`: the table with drill-down (all sources › source › campaign › parameter), the
/// sortable metric headers, the charts by day and the period presets.
extension ReportRoutes {
    func dashboard(_ request: Request, _ actor: Actor) throws -> Response {
        let (r, query) = try pageRequest(request, actor)
        var result = try engine.run(r, actor: actor)
        let columns = try chosenColumns(actor)
        let compare = request.queryValue("compare") == "previous"
        let before = compare ? try previousPeriod(r, actor) : nil
        let sortKey = request.queryValue("sort").flatMap { Metrics.byKey[$0] != nil ? $0 : nil }
        let descending = request.queryValue("dir") != "asc"
        ReportRoutes.sort(&result.rows, by: sortKey, descending: descending)
        let links = ReportLinks(keep: query.filter { !["sort", "dir"].contains($0.0) })
        let (crumbs, parameters) = try drillDown(r, actor, links)
        let presetName = request.queryValue("preset") ?? (request.queryValue("from") == nil ? "last7" : "custom")
        let sort = request.queryValue("sort").map { [("sort", $0), ("dir", descending ? "desc" : "asc")] } ?? []
        return try shell.render(
            request, actor: actor, template: "reports/dashboard", title: "Reports",
            context: [
                "rows": ReportRoutes.rows(result.rows, r, links, columns: columns, before: before?.rows),
                "headers": ReportRoutes.headers(sortKey, descending, links, columns: columns),
                "dimension": r.groups.map(ReportRoutes.columnName).joined(separator: " · "),
                "totals": columns.map { ReportRoutes.cell($0, result.totals, before: before.map(\.totals)) },
                "compare": compare, "previous_range": before.map { "\($0.from) to \($0.to)" } ?? "",
                "column_choices": Metrics.all.map { m in ["key": m.key, "label": m.label, "checked": columns.contains { $0.key == m.key }]
                },
                "back": request.path + (request.rawQuery.isEmpty ? "" : "?" + request.rawQuery),
                "from": r.from, "to": r.to, "tz": r.timeZone, "currency": r.currency,
                "by_conversion": r.byConversionTime,
                "presets": ReportRoutes.presets.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == presetName] },
                "custom": presetName == "custom",
                "hidden": links.keep.filter { ["traffic_source_id", "campaign_id", "param", "workspace_id"].contains($0.0) }.map {
                    ["name": $0.0, "value": $0.1]
                },
                "crumbs": crumbs, "parameters": parameters, "has_parameters": !parameters.isEmpty,
                "charts": try charts(request, r, actor), "warnings": result.warnings,
                "csv_href": "/reports.csv?" + URLEncoding.formString(links.keep + sort),
            ], section: "reports")
    }

    /// A grouping's column heading: "Traffic source", not `traffic_source` (the CSV and the API
    /// keep the keys); a tracking parameter's column is headed by its own name.
    static func columnName(_ group: ReportRequest.Group) -> String {
        switch group {
        case .day: "Day"
        case .hour: "Hour"
        case .trafficSource: "Traffic source"
        case .campaign: "Campaign"
        case .param(let name): name
        case .country: "Country"
        case .device: "Device"
        case .event: "Event"
        case .flow: "Flow"
        case .path: "Path"
        case .lander: "Lander"
        case .offer: "Offer"
        }
    }

    static let presets = [
        ("today", "Today"), ("yesterday", "Yesterday"), ("last7", "Last 7 days"), ("last30", "Last 30 days"),
        ("this_month", "This month"), ("last_month", "Last month"),
    ]

    /// The table's rows; a single source or campaign grouping links each row one level down.
    /// With `before` (the previous period's rows), each cell carries its change.
    static func rows(
        _ rows: [ReportRow], _ r: ReportRequest, _ links: ReportLinks, columns: [Metrics.Metric] = Metrics.all,
        before: [String: Metrics.Sums]? = nil
    ) -> [[String: Any]] {
        let drillable = r.groups.count == 1
        return rows.map { row in
            let label = row.labels.joined(separator: " · ")
            let previous = before.map { $0[label] ?? Metrics.Sums() }
            var item: [String: Any] = ["label": label, "cells": columns.map { cell($0, row.sums, before: previous) }]
            if drillable, r.groups == [.trafficSource], let id = row.dimensions["traffic_source_id"]?.id {
                item["href"] = links.link([("traffic_source_id", String(id)), ("group_by", nil)], drop: ["group_by"])
            } else if drillable, r.groups == [.campaign], let id = row.dimensions["campaign_id"]?.id {
                item["href"] = links.link([("campaign_id", String(id)), ("group_by", nil)], drop: ["group_by", "param"])
            }
            return item
        }
    }

    /// A cell's text and, against the previous period, its change ("+12.5 %", "—" from nothing)
    /// with `up` or `down` (the grid and the home page).
    static func cell(_ metric: Metrics.Metric, _ sums: Metrics.Sums, before: Metrics.Sums?) -> [String: Any] {
        var cell: [String: Any] = ["value": Metrics.display(metric, sums)]
        guard let before else { return cell }
        cell["before"] = Metrics.display(metric, before)
        let (a, b) = (metric.value(sums) ?? 0, metric.value(before) ?? 0)
        guard b != 0 else {
            cell["change"] = "—"
            return cell
        }
        cell["change"] = (a >= b ? "+" : "") + Metrics.text((a - b) / abs(b) * 100, places: 1) + " %"
        cell[a >= b ? "up" : "down"] = true
        return cell
    }

    /// The metric headers, each a link that sorts by it (again: the other direction).
    static func headers(_ sortKey: String?, _ descending: Bool, _ links: ReportLinks, columns: [Metrics.Metric] = Metrics.all)
        -> [[String: Any]]
    {
        columns.map { m -> [String: Any] in
            let active = sortKey == m.key
            return [
                "label": m.label, "key": m.key, "href": links.link([("sort", m.key), ("dir", active && descending ? "asc" : "desc")]),
                "arrow": active ? (descending ? "▼" : "▲") : "",
            ]
        }
    }

    /// Breadcrumbs (all sources › source › campaign › parameter) and, inside a campaign, the
    /// choice of grouping by day or by one of its source's parameters.
    func drillDown(_ r: ReportRequest, _ actor: Actor, _ links: ReportLinks) throws -> (
        crumbs: [[String: Any]], parameters: [[String: Any]]
    ) {
        var crumbs: [[String: Any]] = [
            ["label": "All sources", "href": links.link([], drop: ["traffic_source_id", "campaign_id", "param", "group_by"])]
        ]
        let campaignLabel = try r.campaignID.flatMap { try campaigns.label($0, for: actor) }
        guard let sourceID = r.sourceID ?? campaignLabel?.trafficSourceID else { return (crumbs, []) }
        let source = try sources.label(sourceID, for: actor)
        crumbs.append([
            "label": source?.name ?? "Source \(sourceID)",
            "href": links.link([("traffic_source_id", String(sourceID))], drop: ["campaign_id", "param", "group_by"]),
        ])
        guard let campaignID = r.campaignID else { return (crumbs, []) }
        let campaign = campaignLabel?.name ?? "Campaign \(campaignID)"
        crumbs.append(["label": campaign, "href": links.link([("campaign_id", String(campaignID))], drop: ["param", "group_by"])])
        let parameters = source?.parameters ?? []
        let choices: [[String: Any]] = ([("day", "by day")] + parameters.map { ($0.name, $0.name) }).map { key, label in
            let active = key == "day" ? r.groups == [.day] : r.groups == [.param(key)]
            return [
                "label": label,
                "href": key == "day" ? links.link([], drop: ["param", "group_by"]) : links.link([("param", key)], drop: ["group_by"]),
                "active": active,
            ]
        }
        if case .param(let p) = r.groups.first { crumbs.append(["label": p, "href": ""]) }
        return (crumbs, choices)
    }

    /// Up to four metrics by day over the period (`chart=` picks them), days without data at 0.
    func charts(_ request: Request, _ r: ReportRequest, _ actor: Actor) throws -> [[String: String]] {
        let keys = (request.queryValue("chart") ?? "clicks,conversions,cost,revenue").split(separator: ",").map(String.init)
            .filter { Metrics.byKey[$0] != nil }
        var dayRequest = r
        dayRequest.groups = [.day]
        let byDay = try engine.run(dayRequest, actor: actor)
        let days = ReportPadding.days(r.from, r.to)
        return keys.prefix(4).map { key in
            let metric = Metrics.byKey[key]!
            let values = Dictionary(byDay.rows.map { ($0.labels[0], metric.value($0.sums) ?? 0) }, uniquingKeysWith: { a, _ in a })
            let svg = ReportChart.svg(days: days, values: values, label: metric.label, places: metric.kind == .count ? 0 : 2)
            return ["label": metric.label, "svg": svg]
        }
    }
}

/// The dashboard's links: its query (without sort and dir) with some parameters changed or dropped.
struct ReportLinks {
    let keep: [(String, String)]

    func link(_ changes: [(String, String?)], drop: [String] = []) -> String {
        var q = keep.filter { pair in !drop.contains(pair.0) && !changes.contains { $0.0 == pair.0 } }
        for (k, v) in changes { if let v { q.append((k, v)) } }
        return "/reports?" + URLEncoding.formString(q)
    }
}
