import Catalog
import Conversions
import Foundation
import Spend
import WaymarkCore
import Web

/// Spend feeds on a traffic source: the API (`/api/v1/traffic-sources/{id}/spend-feeds`) and
/// the source's Spend feeds tab (list, create, edit, pause, delete, run now, preview, history).
struct SpendFeedRoutes {
    let shell: AdminShell
    let store: SpendFeedStore
    let sources: TrafficSourceStore
    /// Previews and the wait for Run now hold one of a few slots (never many click threads).
    let gate: OutboundGate

    func register(on router: Router) {
        let base = "/api/v1/traffic-sources/{id}/spend-feeds"
        router.get(
            base,
            shell.api { request, actor in
                let source = try sources.get(try request.pathID(), for: actor)
                let (page, next) = try Paging(request).slice(try store.list(sourceID: source.id), id: \.id)
                return .jsonObject(["data": page.map(\.json), "next_cursor": next.map { $0 as Any } ?? NSNull()])
            })
        router.post(
            base,
            shell.api { request, actor in
                var reader = FieldReader(try request.jsonObject())
                var draft = SpendFeedDraft()
                draft.apply(&reader)
                return .jsonObject(
                    try store.create(sourceID: try request.pathID(), draft, by: actor, inputErrors: reader.errors).json, status: 201)
            })
        router.get(
            base + "/{feed}",
            shell.api { request, actor in
                .jsonObject(try feed(request, actor).json)
            })
        router.patch(
            base + "/{feed}",
            shell.api { request, actor in
                let feed = try feed(request, actor)
                var reader = FieldReader(try request.jsonObject())
                var draft = SpendFeedDraft(feed)
                draft.apply(&reader)
                return .jsonObject(try store.update(feed, draft, by: actor, inputErrors: reader.errors).json)
            })
        router.delete(
            base + "/{feed}",
            shell.api { request, actor in
                try store.delete(try feed(request, actor), by: actor)
                return Response(status: 204)
            })
        router.post(
            base + "/{feed}/run",
            shell.api { request, actor in
                let feed = try feed(request, actor)
                try actor.requireEditable(workspace: feed.workspaceID)
                guard let run = try runNow(feed) else { return .jsonObject(["status": "queued"], status: 202) }
                return .jsonObject(run)
            })
        router.post(
            base + "/{feed}/preview",
            shell.api { request, actor in
                let feed = try feed(request, actor)
                try actor.requireEditable(workspace: feed.workspaceID)
                return .jsonObject(outcomeJSON(try preview(feed), rows: true))
            })
        router.get(
            base + "/{feed}/runs",
            shell.api { request, actor in
                .jsonObject(["data": try store.runs(try feed(request, actor).id), "next_cursor": NSNull()])
            })

        router.get(
            "/traffic-sources/{id}/spend-feeds",
            shell.page { request, actor in
                let source = try sources.get(try request.pathID(), for: actor)
                return try formPage(request, actor, source, feed: nil, draft: SpendFeedDraft(), errors: [:])
            })
        router.post(
            "/traffic-sources/{id}/spend-feeds",
            shell.page { request, actor in
                let source = try sources.get(try request.pathID(), for: actor)
                let (draft, inputErrors) = try formDraft(request, SpendFeedDraft())
                do {
                    let feed = try store.create(sourceID: source.id, draft, by: actor, inputErrors: inputErrors)
                    return AdminShell.redirect(
                        to: "/traffic-sources/\(source.id)/spend-feeds/\(feed.id)", flash: "Spend feed \(feed.name) saved.")
                } catch let error as HTTPError where error.status == 422 {
                    return try formPage(request, actor, source, feed: nil, draft: draft, errors: error.fields, status: 422)
                }
            })
        router.get(
            "/traffic-sources/{id}/spend-feeds/{feed}",
            shell.page { request, actor in
                let feed = try feed(request, actor)
                let source = try sources.get(feed.sourceID, for: actor)
                return try formPage(request, actor, source, feed: feed, draft: SpendFeedDraft(feed), errors: [:])
            })
        router.post(
            "/traffic-sources/{id}/spend-feeds/{feed}",
            shell.page { request, actor in
                let feed = try feed(request, actor)
                let source = try sources.get(feed.sourceID, for: actor)
                let (draft, inputErrors) = try formDraft(request, SpendFeedDraft(feed))
                do {
                    _ = try store.update(feed, draft, by: actor, inputErrors: inputErrors)
                    return AdminShell.redirect(to: "/traffic-sources/\(source.id)/spend-feeds/\(feed.id)", flash: "Spend feed saved.")
                } catch let error as HTTPError where error.status == 422 {
                    return try formPage(request, actor, source, feed: feed, draft: draft, errors: error.fields, status: 422)
                }
            })
        router.post(
            "/traffic-sources/{id}/spend-feeds/{feed}/{action}",
            shell.page { request, actor in
                let feed = try feed(request, actor)
                try actor.requireEditable(workspace: feed.workspaceID)
                let back = "/traffic-sources/\(feed.sourceID)/spend-feeds/\(feed.id)"
                switch request.parameters["action"] ?? "" {
                case "run":
                    guard let run = try runNow(feed) else {
                        return AdminShell.redirect(to: back, flash: "The run is queued: the worker runs it now (see the run history).")
                    }
                    let window = run["window"] as? [String: Any]
                    return AdminShell.redirect(
                        to: back,
                        flash: run["status"] as? String == "success"
                            ? "Imported \(run["rows_imported"] ?? 0) rows for \(window?["from"] ?? "") – \(window?["to"] ?? "")."
                            : "The run failed: \(run["error"] as? String ?? "") Nothing was changed.")
                case "preview":
                    let source = try sources.get(feed.sourceID, for: actor)
                    return try formPage(
                        request, actor, source, feed: feed, draft: SpendFeedDraft(feed), errors: [:], preview: try preview(feed))
                case "delete":
                    try store.delete(feed, by: actor)
                    return AdminShell.redirect(
                        to: "/traffic-sources/\(feed.sourceID)/spend-feeds", flash: "Spend feed deleted (its imported spend stays).")
                case "pause", "resume":
                    var draft = SpendFeedDraft(feed)
                    draft.status = request.parameters["action"] == "pause" ? "paused" : "active"
                    _ = try store.update(feed, draft, by: actor)
                    return AdminShell.redirect(
                        to: back, flash: draft.status == "paused" ? "Paused." : "Resumed: the next run is scheduled.")
                default: throw HTTPError.notFound()
                }
            })
    }

    func feed(_ request: Request, _ actor: Actor) throws -> SpendFeed {
        try store.get(try request.pathID("feed"), sourceID: try request.pathID(), for: actor)
    }

    /// Run now goes to the worker; this request waits for it only while it holds one of the
    /// gate's few slots, else it answers at once that the run is queued.
    func runNow(_ feed: SpendFeed) throws -> [String: Any]? {
        guard let slot = gate.take() else {
            _ = try store.requestRun(feed, wait: 0)
            return nil
        }
        defer { slot.release() }
        return try store.requestRun(feed, wait: gate.seconds)
    }

    /// A preview shows rows without storing them, so it runs here, in a gate slot, in bounded time.
    func preview(_ feed: SpendFeed) throws -> SpendFeedRunner.Outcome {
        try gate.run { deadline in try store.run(feed, trigger: "preview", deadline: deadline) }
    }

    func outcomeJSON(_ o: SpendFeedRunner.Outcome, rows: Bool = false) -> [String: Any] {
        var out: [String: Any] = [
            "status": o.ok ? "success" : "failed", "window": ["from": o.from, "to": o.to],
            "http_status": o.httpStatus.map { $0 as Any } ?? NSNull(),
            "rows_read": o.read, "rows_imported": o.imported, "rows_rejected": o.rejected.count, "rejected": o.rejected.map(\.json),
            "error": o.error ?? NSNull(),
        ]
        if rows {
            out["rows"] = o.entries.map { e in
                [
                    "row": e.row, "date": e.day, "campaign_id": e.campaignID.map { $0 as Any } ?? NSNull(), "dimensions": e.dimensions,
                    "amount": e.amount, "currency": e.currency,
                ] as [String: Any]
            }
        }
        return out
    }

    /// The form's fields; headers as `Name: value` lines (empty = keep the stored ones),
    /// dimensions as `parameter=column` lines.
    private func formDraft(_ request: Request, _ base: SpendFeedDraft) throws -> (SpendFeedDraft, [String: String]) {
        let form = FormState(fields: try request.form())
        var d = base
        var errors: [String: String] = [:]
        d.name = form.value("name").trimmingCharacters(in: .whitespaces)
        d.url = form.value("url").trimmingCharacters(in: .whitespaces)
        d.method = form.value("method").nilIfEmpty ?? "GET"
        let headerText = form.value("headers").trimmingCharacters(in: .whitespacesAndNewlines)
        if form.value("clear_headers") == "on" {
            d.headers = []
        } else if !headerText.isEmpty {
            d.headers = headerText.split(whereSeparator: \.isNewline).compactMap { line in
                guard let colon = line.firstIndex(of: ":") else {
                    errors["headers"] = "write one header a line, Name: value"
                    return nil
                }
                return (
                    line[..<colon].trimmingCharacters(in: .whitespaces),
                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                )
            }
        }
        d.format = form.value("format")
        d.jsonPath = form.value("json_path").trimmingCharacters(in: .whitespaces)
        d.dateFormat = form.value("date_format")
        d.timeZone = form.value("time_zone").trimmingCharacters(in: .whitespaces).nilIfEmpty ?? "UTC"
        d.mapping.date = form.value("map_date").trimmingCharacters(in: .whitespaces)
        d.mapping.campaign = form.value("map_campaign").trimmingCharacters(in: .whitespaces).nilIfEmpty
        d.mapping.campaignMatch = form.value("map_campaign_match").trimmingCharacters(in: .whitespaces).nilIfEmpty ?? "key"
        d.mapping.amount = form.value("map_amount").trimmingCharacters(in: .whitespaces)
        d.mapping.currency = form.value("map_currency").trimmingCharacters(in: .whitespaces).nilIfEmpty
        d.mapping.fixedCurrency = form.value("map_fixed_currency").trimmingCharacters(in: .whitespaces).uppercased().nilIfEmpty
        d.mapping.dimensions = [:]
        for line in form.value("map_dimensions").split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 {
                d.mapping.dimensions[parts[0]] = parts[1]
            } else if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                errors["mapping.dimensions"] = "write one a line, parameter=column"
            }
        }
        if form.value("schedule") == "daily" {
            d.dailyAt = form.value("daily_at").nilIfEmpty
            d.everyHours = nil
        } else {
            d.everyHours = Int(form.value("every_hours"))
            d.dailyAt = nil
            if d.everyHours == nil { errors["schedule.every_hours"] = "must be a number of hours" }
        }
        d.lookbackDays = Int(form.value("lookback_days")) ?? -1
        d.timeoutSeconds = Int(form.value("timeout_seconds")) ?? -1
        d.maxFailures = Int(form.value("max_failures")) ?? -1
        return (d, errors)
    }

    private func formPage(
        _ request: Request, _ actor: Actor, _ source: TrafficSource, feed: SpendFeed?, draft: SpendFeedDraft,
        errors: [String: String], status: Int = 200, preview: SpendFeedRunner.Outcome? = nil
    ) throws -> Response {
        var context: [String: Any] = [
            "source": ["id": source.id, "name": source.name],
            "source_tabs": ["tabs": IntegrationRoutes.tabs(source.id, active: "feeds")],
            "feeds": try store.list(sourceID: source.id).map { f in
                [
                    "id": f.id, "name": f.name, "status": f.status, "format": f.format,
                    "last_run": f.lastRunAt.map(RFC3339.string) ?? "never",
                    "next_run": f.nextRunAt.map(RFC3339.string) ?? "", "failures": f.consecutiveFailures, "selected": f.id == feed?.id,
                ] as [String: Any]
            },
            "values": [
                "name": draft.name, "url": draft.url, "json_path": draft.jsonPath, "time_zone": draft.timeZone,
                "map_date": draft.mapping.date, "map_campaign": draft.mapping.campaign ?? "",
                "map_campaign_match": draft.mapping.campaignMatch,
                "map_amount": draft.mapping.amount, "map_currency": draft.mapping.currency ?? "",
                "map_fixed_currency": draft.mapping.fixedCurrency ?? "",
                "map_dimensions": draft.mapping.dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                    separator: "\n"),
                "every_hours": draft.everyHours.map(String.init) ?? "24", "daily_at": draft.dailyAt ?? "06:00",
                "lookback_days": draft.lookbackDays, "timeout_seconds": draft.timeoutSeconds, "max_failures": draft.maxFailures,
            ] as [String: Any],
            "daily": draft.dailyAt != nil,
            "methods": ["GET", "POST"].map { ["value": $0, "selected": $0 == draft.method] },
            "formats": ["csv", "json"].map { ["value": $0, "selected": $0 == draft.format] },
            "date_formats": SpendFeedDraft.dateFormats.map { ["value": $0, "selected": $0 == draft.dateFormat] },
            "errors": errors.sorted { $0.key < $1.key }.map { "\($0.key.replacingOccurrences(of: "_", with: " ")) \($0.value)" },
            "has_errors": !errors.isEmpty,
            "can_edit": actor.canEdit(workspace: source.workspaceID),
            "action": feed.map { "/traffic-sources/\(source.id)/spend-feeds/\($0.id)" } ?? "/traffic-sources/\(source.id)/spend-feeds",
        ]
        if let feed {
            context["feed"] =
                [
                    "id": feed.id, "name": feed.name, "status": feed.status, "paused": feed.status == "paused",
                    "paused_reason": feed.pausedReason ?? "", "headers": feed.headerNames.joined(separator: ", "),
                    "failures": feed.consecutiveFailures,
                ] as [String: Any]
            context["runs"] = try store.runs(feed.id, limit: 30).map { r in
                var r = r
                r["rejected_text"] = ((r["rejected"] as? [[String: Any]]) ?? []).prefix(5).map {
                    "row \($0["row"] ?? ""): \($0["field"] ?? "") \($0["message"] ?? "")"
                }.joined(separator: "; ")
                r["window_text"] = "\((r["window"] as? [String: Any])?["from"] ?? "") – \((r["window"] as? [String: Any])?["to"] ?? "")"
                return r
            }
        }
        if let preview {
            var shown = outcomeJSON(preview, rows: true)
            shown["ok"] = preview.ok
            shown["rejected_any"] = !preview.rejected.isEmpty
            shown["rows"] = preview.entries.map { e in
                [
                    "row": e.row, "date": e.day, "campaign_id": e.campaignID.map(String.init) ?? "(source level)", "amount": e.amount,
                    "currency": e.currency,
                    "dimensions_text": e.dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "),
                ] as [String: Any]
            }
            context["preview"] = shown
        }
        return try shell.render(
            request, actor: actor, template: "spend_feeds/form",
            title: feed.map { "Spend feed \($0.name)" } ?? "Spend feeds of \(source.name)",
            context: context, status: status, section: "sources")
    }
}
