import Foundation
import HTTPClient
import Postgres
import WaymarkCore
import Web

/// A traffic source's spend feed: where its cost report is, how its columns map to spend
/// entries, and when the worker fetches it.
public struct SpendFeed: Sendable {
    /// Feed columns (CSV header names or JSON keys) → spend fields.
    public struct Mapping: Sendable, Codable, Equatable {
        public var date = "date"
        /// The column naming the campaign; nil = spend at source level.
        public var campaign: String?
        /// `key`, `id`, `name` (the Waymark campaign's) or `param:NAME` (a tracking parameter's
        /// value on the campaign's clicks, e.g. the network's campaign id).
        public var campaignMatch = "key"
        public var amount = "amount"
        public var currency: String?
        public var fixedCurrency: String?
        /// Tracking parameter → column, for parameter-level spend.
        public var dimensions: [String: String] = [:]

        public enum CodingKeys: String, CodingKey {
            case date, campaign, amount, currency, dimensions
            case campaignMatch = "campaign_match"
            case fixedCurrency = "fixed_currency"
        }
    }

    public var id: Int64
    public var sourceID: Int64
    public var workspaceID: Int64?
    public var name: String
    public var url: String
    public var method: String
    public var headerNames: [String]
    public var hasHeaders: Bool
    public var format: String
    public var jsonPath: String
    public var mapping: Mapping
    public var dateFormat: String
    public var timeZone: String
    public var everyHours: Int?
    public var dailyAt: String?
    public var lookbackDays: Int
    public var timeoutSeconds: Int
    public var status: String
    public var pausedReason: String?
    public var consecutiveFailures: Int
    public var maxFailures: Int
    public var nextRunAt: Date?
    public var lastRunAt: Date?
    public var createdBy: Int64

    public static let columns: PostgresQuery = """
        id, traffic_source_id, workspace_id, name, url, method, array_to_string(header_names, ',') AS header_names, headers_sealed IS NOT NULL AS has_headers,
        format, json_path, mapping::text AS mapping, date_format, time_zone, every_hours, daily_at, lookback_days, timeout_seconds, status,
        paused_reason, consecutive_failures, max_failures, next_run_at, last_run_at, created_by
        """

    public static func decode(_ r: PostgresRow) throws -> SpendFeed {
        SpendFeed(
            id: try r.decode("id"), sourceID: try r.decode("traffic_source_id"), workspaceID: try r.decode("workspace_id", as: Int64?.self),
            name: try r.decode("name"), url: try r.decode("url"), method: try r.decode("method"),
            headerNames: (r["header_names"] ?? "").split(separator: ",").map(String.init), hasHeaders: try r.decode("has_headers"),
            format: try r.decode("format"), jsonPath: try r.decode("json_path"),
            mapping: (try? JSONDecoder().decode(Mapping.self, from: Data((r["mapping"] ?? "{}").utf8))) ?? Mapping(),
            dateFormat: try r.decode("date_format"), timeZone: try r.decode("time_zone"),
            everyHours: try r.decode("every_hours", as: Int?.self),
            dailyAt: r["daily_at"], lookbackDays: try r.decode("lookback_days"), timeoutSeconds: try r.decode("timeout_seconds"),
            status: try r.decode("status"), pausedReason: r["paused_reason"], consecutiveFailures: try r.decode("consecutive_failures"),
            maxFailures: try r.decode("max_failures"), nextRunAt: try r.decode("next_run_at", as: Date?.self),
            lastRunAt: try r.decode("last_run_at", as: Date?.self), createdBy: try r.decode("created_by"))
    }

    /// The API's view: never a header value.
    public var json: [String: Any] {
        func v(_ x: Any?) -> Any { x ?? NSNull() }
        return [
            "id": id, "traffic_source_id": sourceID, "name": name, "url": url, "method": method,
            "headers": headerNames.map { [$0: "(stored)"] },
            "format": format, "json_path": jsonPath, "date_format": dateFormat, "time_zone": timeZone,
            "mapping": [
                "date": mapping.date, "campaign": v(mapping.campaign), "campaign_match": mapping.campaignMatch, "amount": mapping.amount,
                "currency": v(mapping.currency), "fixed_currency": v(mapping.fixedCurrency), "dimensions": mapping.dimensions,
            ] as [String: Any],
            "schedule": ["every_hours": v(everyHours), "daily_at": v(dailyAt)] as [String: Any],
            "lookback_days": lookbackDays, "timeout_seconds": timeoutSeconds, "status": status, "paused_reason": v(pausedReason),
            "consecutive_failures": consecutiveFailures, "max_failures": maxFailures,
            "next_run_at": v(nextRunAt.map(RFC3339.string)), "last_run_at": v(lastRunAt.map(RFC3339.string)),
        ]
    }
}

/// What a create or an edit sends, checked as a whole (every bad field listed).
public struct SpendFeedDraft: Sendable {
    public var name = ""
    public var url = ""
    public var method = "GET"
    /// nil = keep the stored headers; [] = remove them.
    public var headers: [(String, String)]?
    public var format = "csv"
    public var jsonPath = ""
    public var mapping = SpendFeed.Mapping()
    public var dateFormat = "yyyy-MM-dd"
    public var timeZone = "UTC"
    public var everyHours: Int? = 24
    public var dailyAt: String?
    public var lookbackDays = 3
    public var timeoutSeconds = 30
    public var maxFailures = 5
    public var status = "active"

    public init() {}

    public init(_ f: SpendFeed) {
        name = f.name
        url = f.url
        method = f.method
        format = f.format
        jsonPath = f.jsonPath
        mapping = f.mapping
        dateFormat = f.dateFormat
        timeZone = f.timeZone
        everyHours = f.everyHours
        dailyAt = f.dailyAt
        lookbackDays = f.lookbackDays
        timeoutSeconds = f.timeoutSeconds
        maxFailures = f.maxFailures
        status = f.status
    }

    public static let dateFormats = ["yyyy-MM-dd", "yyyyMMdd", "dd.MM.yyyy", "MM/dd/yyyy", "dd/MM/yyyy"]

    public mutating func apply(_ reader: inout FieldReader) {
        if let v = reader.string("name") { name = v.trimmingCharacters(in: .whitespaces) }
        if let v = reader.string("url") { url = v.trimmingCharacters(in: .whitespaces) }
        if let v = reader.string("method") { method = v.uppercased() }
        if reader.has("headers") {
            guard let list = reader.object("headers") else {
                reader.fail("headers", "must be an object {Name: value}")
                return
            }
            headers = list.sorted { $0.key < $1.key }.map { ($0.key, jsonText($0.value) ?? "") }
        }
        if let v = reader.string("format") { format = v.lowercased() }
        if let v = reader.string("json_path") { jsonPath = v.trimmingCharacters(in: .whitespaces) }
        if let v = reader.string("date_format") { dateFormat = v }
        if let v = reader.string("time_zone") { timeZone = v }
        if let m = reader.object("mapping") {
            var inner = FieldReader(m)
            if let v = inner.string("date") { mapping.date = v }
            if inner.has("campaign") { mapping.campaign = inner.string("campaign")?.nilIfEmpty }
            if let v = inner.string("campaign_match") { mapping.campaignMatch = v }
            if let v = inner.string("amount") { mapping.amount = v }
            if inner.has("currency") { mapping.currency = inner.string("currency")?.nilIfEmpty }
            if inner.has("fixed_currency") { mapping.fixedCurrency = inner.string("fixed_currency")?.uppercased().nilIfEmpty }
            if let d = inner.object("dimensions") { mapping.dimensions = d.compactMapValues { $0 as? String } }
        }
        if let s = reader.object("schedule") {
            var inner = FieldReader(s)
            // Either one given replaces the schedule (both given: a field error).
            if inner.has("every_hours") || inner.has("daily_at") {
                everyHours = inner.int64("every_hours").flatMap { $0 }.map(Int.init)
                dailyAt = inner.string("daily_at")?.nilIfEmpty
            }
        }
        if let v = reader.int64("lookback_days") { lookbackDays = Int(v ?? 3) }
        if let v = reader.int64("timeout_seconds") { timeoutSeconds = Int(v ?? 30) }
        if let v = reader.int64("max_failures") { maxFailures = Int(v ?? 5) }
        if let v = reader.string("status") { status = v }
    }

    public func check() -> [String: String] {
        var e: [String: String] = [:]
        if name.isEmpty || name.count > 200 { e["name"] = "is required (at most 200 characters)" }
        if !URLCheck.isAbsoluteHTTP(url) || url.count > 4000 { e["url"] = "must be an absolute http(s) URL" }
        if !["GET", "POST"].contains(method) { e["method"] = "must be GET or POST" }
        if !["csv", "json"].contains(format) { e["format"] = "must be csv or json" }
        if !SpendFeedDraft.dateFormats.contains(dateFormat) {
            e["date_format"] = "must be one of " + SpendFeedDraft.dateFormats.joined(separator: ", ")
        }
        if TimeZone(identifier: timeZone) == nil { e["time_zone"] = "is not a time zone name (e.g. Europe/Berlin)" }
        if mapping.date.isEmpty { e["mapping.date"] = "is required" }
        if mapping.amount.isEmpty { e["mapping.amount"] = "is required" }
        let match = mapping.campaignMatch
        if !(["key", "id", "name"].contains(match) || (match.hasPrefix("param:") && Slug.isValid(String(match.dropFirst(6))))) {
            e["mapping.campaign_match"] = "must be key, id, name or param:NAME"
        }
        if mapping.currency == nil && mapping.fixedCurrency == nil { e["mapping.currency"] = "name a currency column or a fixed_currency" }
        if let fixed = mapping.fixedCurrency, !Currency.isKnown(fixed) { e["mapping.fixed_currency"] = "must be an ISO 4217 code" }
        if let bad = mapping.dimensions.keys.first(where: { !Slug.isValid($0) }) {
            e["mapping.dimensions"] = "\"\(bad)\" is not a parameter name"
        }
        switch (everyHours, dailyAt) {
        case (let h?, nil): if !(1...168).contains(h) { e["schedule.every_hours"] = "must be 1 to 168" }
        case (nil, let t?):
            let parts = t.split(separator: ":").compactMap { Int($0) }
            if parts.count != 2 || !(0...23).contains(parts[0]) || !(0...59).contains(parts[1]) || t.count != 5 {
                e["schedule.daily_at"] = "must be HH:MM"
            }
        default: e["schedule"] = "give every_hours or daily_at (one of them)"
        }
        if !(0...60).contains(lookbackDays) { e["lookback_days"] = "must be 0 to 60" }
        if !(1...300).contains(timeoutSeconds) { e["timeout_seconds"] = "must be 1 to 300" }
        if !(1...100).contains(maxFailures) { e["max_failures"] = "must be 1 to 100" }
        if !["active", "paused"].contains(status) { e["status"] = "must be active or paused" }
        // Checked on bytes by the outbound policy's own rules ("\r\n" is one Character).
        if let headers, let bad = headers.first(where: { !OutboundPolicy.isHeaderName($0.0) || !OutboundPolicy.isHeaderValue($0.1) }) {
            e["headers"] =
                "\"\(OutboundPolicy.isHeaderName(bad.0) ? bad.0 : "a header")\" is not a header name with a one-line value (no CR, LF or NUL)"
        }
        return e
    }
}
