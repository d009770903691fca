import Foundation
import Spend
import WaymarkCore
import Web

/// The feed form's fields in and out, and the template context of the list, the feed, its
/// runs and a preview.
extension SpendFeedRoutes {
    /// The form's fields; headers as `Name: value` lines (empty = keep the stored ones),
    /// dimensions as `parameter=column` lines.
    static func formDraft(_ request: Request, _ base: SpendFeedDraft) throws -> (SpendFeedDraft, [String: String]) {
        let form = FormState(fields: try request.form())
        func text(_ name: String) -> String { form.value(name).trimmingCharacters(in: .whitespaces) }
        var d = base
        var errors: [String: String] = [:]
        d.name = text("name")
        d.url = text("url")
        d.method = form.value("method").nilIfEmpty ?? "GET"
        let headerText = form.value("headers").trimmingCharacters(in: .whitespacesAndNewlines)
        if form.value("clear_headers") == "on" {
            d.headers = []
        } else if !headerText.isEmpty {
            d.headers = headers(headerText, errors: &errors)
        }
        d.format = form.value("format")
        d.jsonPath = text("json_path")
        d.dateFormat = form.value("date_format")
        d.timeZone = text("time_zone").nilIfEmpty ?? "UTC"
        d.mapping.date = text("map_date")
        d.mapping.campaign = text("map_campaign").nilIfEmpty
        d.mapping.campaignMatch = text("map_campaign_match").nilIfEmpty ?? "key"
        d.mapping.amount = text("map_amount")
        d.mapping.currency = text("map_currency").nilIfEmpty
        d.mapping.fixedCurrency = text("map_fixed_currency").uppercased().nilIfEmpty
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

    /// `Name: value` lines.
    private static func headers(_ text: String, errors: inout [String: String]) -> [(String, String)] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            guard let colon = line.firstIndex(of: ":") else {
                errors["headers"] = "write one header a line, Name: value"
                return nil
            }
            return (
                line[..<colon].trimmingCharacters(in: .whitespaces), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            )
        }
    }

    static func values(_ draft: SpendFeedDraft) -> [String: Any] {
        [
            "name": draft.name, "url": draft.url, "json_path": draft.jsonPath, "time_zone": draft.timeZone,
            "map_date": draft.mapping.date, "map_campaign": draft.mapping.campaign ?? "", "map_campaign_match": draft.mapping.campaignMatch,
            "map_amount": draft.mapping.amount, "map_currency": draft.mapping.currency ?? "",
            "map_fixed_currency": draft.mapping.fixedCurrency ?? "",
            "map_dimensions": draft.mapping.dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n"),
            "every_hours": draft.everyHours.map(String.init) ?? "24", "daily_at": draft.dailyAt ?? "06:00",
            "lookback_days": draft.lookbackDays, "timeout_seconds": draft.timeoutSeconds, "max_failures": draft.maxFailures,
        ]
    }

    static func listItem(_ f: SpendFeed, selected: Bool) -> [String: Any] {
        [
            "id": f.id, "name": f.name, "status": f.status, "format": f.format, "last_run": f.lastRunAt.map(RFC3339.string) ?? "never",
            "next_run": f.nextRunAt.map(RFC3339.string) ?? "", "failures": f.consecutiveFailures, "selected": selected,
        ]
    }

    static func feedContext(_ feed: SpendFeed) -> [String: Any] {
        [
            "id": feed.id, "name": feed.name, "status": feed.status, "paused": feed.status == "paused",
            "paused_reason": feed.pausedReason ?? "", "headers": feed.headerNames.joined(separator: ", "),
            "failures": feed.consecutiveFailures,
        ]
    }

    /// A run of the history table (NSNull renders empty).
    static func runContext(_ r: SpendFeedRun) -> [String: Any] {
        [
            "trigger": r.trigger, "started_at": RFC3339.string(from: r.startedAt),
            "finished_at": r.finishedAt.map(RFC3339.string) ?? NSNull(),
            "window": ["from": r.window.from ?? NSNull(), "to": r.window.to ?? NSNull()] as [String: Any],
            "http_status": r.httpStatus ?? NSNull(), "rows_read": r.rowsRead, "rows_imported": r.rowsImported,
            "rows_rejected": r.rowsRejected, "rejected": r.rejected.map(rejectedContext), "status": r.status, "error": r.error ?? NSNull(),
            "rejected_text": r.rejected.prefix(5).map { "row \($0.row): \($0.field) \($0.message)" }.joined(separator: "; "),
            // A run still going has no window yet: an empty one, not "<null> – <null>".
            "window_text": "\(r.window.from ?? "") – \(r.window.to ?? "")",
        ]
    }

    static func rejectedContext(_ e: SpendRowError) -> [String: Any] { ["row": e.row, "field": e.field, "message": e.message] }

    /// A preview's card: what the API's preview answers, with rows as the table shows them.
    static func previewContext(_ o: SpendFeedRunner.Outcome) -> [String: Any] {
        [
            "status": o.ok ? "success" : "failed", "window": ["from": o.from, "to": o.to],
            "http_status": o.httpStatus ?? NSNull(), "rows_read": o.read, "rows_imported": o.imported,
            "rows_rejected": o.rejected.count, "rejected": o.rejected.map(rejectedContext), "error": o.error ?? NSNull(),
            "ok": o.ok, "rejected_any": !o.rejected.isEmpty,
            "rows": o.entries.map { e in
                [
                    "row": e.row, "date": e.day, "campaign_id": e.campaignID.map(String.init) ?? "(source level)", "amount": e.amount,
                    "currency": e.currency,
                    "dimensions_text": e.dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "),
                ] as [String: Any]
            },
        ]
    }
}
