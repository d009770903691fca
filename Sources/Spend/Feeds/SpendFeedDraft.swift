import Foundation
import HTTPClient
import WaymarkCore
import Web

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

    public var schedule: SpendFeedSchedule { SpendFeedSchedule(everyHours: everyHours, dailyAt: dailyAt, zone: timeZone) }

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
                "\"\(OutboundPolicy.isHeaderName(bad.0) ? bad.0 : "a header")\""
                + " is not a header name with a one-line value (no CR, LF or NUL)"
        }
        return e
    }
}
