import CSV
import Catalog
import Foundation
import HTTPClient
import Postgres
import WaymarkCore
import Web

/// One run of a spend feed: fetch (through libcurl with the deny list, a timeout and a size
/// cap), read the rows (CSV or JSON), map them to spend rows, check them as an upload is
/// checked, and — unless it is a preview — replace the window's entries in one transaction.
/// Any bad row fails the whole run and changes nothing, as an upload would.
public struct SpendFeedRunner: Sendable {
    public let database: PostgresPool
    public let secrets: IntegrationSecrets
    public let outbound: OutboundPolicy
    public static let maxBytes = 20 << 20

    public init(database: PostgresPool, secrets: IntegrationSecrets, outbound: OutboundPolicy) {
        self.database = database
        self.secrets = secrets
        self.outbound = outbound
    }

    public struct Outcome: Sendable {
        public var from: String
        public var to: String
        public var httpStatus: Int?
        public var read = 0
        public var imported = 0
        public var rejected: [SpendRowError] = []
        public var entries: [SpendEntry] = []
        public var error: String?
        public var ok: Bool { error == nil }

        public init(from: String, to: String) {
            self.from = from
            self.to = to
        }
    }

    /// The window a run reads: the last `lookback_days` days up to today, in the feed's zone.
    public static func window(_ feed: SpendFeed, now: Date = Date()) -> (from: String, to: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: feed.timeZone) ?? TimeZone(identifier: "UTC")!
        func day(_ d: Date) -> String {
            let c = calendar.dateComponents([.year, .month, .day], from: d)
            return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
        }
        return (day(calendar.date(byAdding: .day, value: -feed.lookbackDays, to: now)!), day(now))
    }

    /// `yyyy-MM-dd` text in the feed's date format, and back.
    public static func format(_ day: String, _ format: String) -> String {
        let y = day.prefix(4), m = day.dropFirst(5).prefix(2), d = day.suffix(2)
        return format.replacingOccurrences(of: "yyyy", with: y).replacingOccurrences(of: "MM", with: m).replacingOccurrences(
            of: "dd", with: d)
    }

    public static func parse(_ text: String, _ format: String) -> String? {
        // Dates may carry a time after them (`2026-11-30 00:00:00`): the format's length decides.
        let value = Array(text.trimmingCharacters(in: .whitespaces).prefix(format.count))
        let pattern = Array(format)
        guard value.count == pattern.count else { return nil }
        func part(_ token: String) -> String? {
            guard let r = format.range(of: token) else { return nil }
            let start = format.distance(from: format.startIndex, to: r.lowerBound)
            let digits = String(value[start..<(start + token.count)])
            return ASCII.isDigits(digits) ? digits : nil
        }
        for (i, c) in pattern.enumerated() where !"yMd".contains(c) && value[i] != c { return nil }
        guard let y = part("yyyy"), let m = part("MM"), let d = part("dd") else { return nil }
        let iso = "\(y)-\(m)-\(d)"
        return Dates.parseDay(iso) != nil ? iso : nil
    }

    /// The URLs of a run: one per day with `{date}`, else one with `{from}` and `{to}`.
    public static func urls(_ feed: SpendFeed, from: String, to: String) -> [String] {
        func fill(_ url: String, _ values: [String: String]) -> String {
            TokenTemplate(url).render { name in values[name].map { URLEncoding.encode($0) } ?? "{\(name)}" }
        }
        let base = ["from": format(from, feed.dateFormat), "to": format(to, feed.dateFormat)]
        if feed.url.contains("{date}") {
            return daysBetween(from, to).map { fill(feed.url, base.merging(["date": format($0, feed.dateFormat)]) { _, b in b }) }
        }
        return [fill(feed.url, base)]
    }

    /// `sealedHeaders` reads the feed's stored headers (SpendFeedStore), before each fetch.
    public func run(_ feed: SpendFeed, sealedHeaders: () throws -> String?, store: Bool, deadline: Date? = nil) -> Outcome {
        let (from, to) = SpendFeedRunner.window(feed)
        var outcome = Outcome(from: from, to: to)
        do {
            var rows: [(row: Int, fields: [String: String])] = []
            for url in SpendFeedRunner.urls(feed, from: from, to: to) {
                let (status, body) = try fetch(feed, url, sealedHeaders: sealedHeaders, deadline: deadline)
                outcome.httpStatus = status
                guard (200..<300).contains(status) else { throw IntegrationError("HTTP \(status) from \(Redaction.withoutQuery(url))") }
                let parsed = try feed.format == "csv" ? SpendFeedRunner.csvRows(body) : SpendFeedRunner.jsonRows(body, path: feed.jsonPath)
                for p in parsed { rows.append((rows.count + 1, p)) }
            }
            outcome.read = rows.count
            let actor = try database.withConnection { try ActorStore.load(userID: feed.createdBy, channel: .cli, csrfToken: nil, on: $0) }
            guard let actor else { throw IntegrationError("the feed's owner (user \(feed.createdBy)) is disabled or gone") }
            let (inputs, mapErrors) = try map(feed, rows)
            let checker = try SpendChecker(actor: actor, sources: TrafficSourceStore(database: database), fx: FXStore(database: database))
            let checked = checker.check(inputs)
            outcome.rejected = mapErrors + checked.errors
            outcome.entries = checked.entries
            if !outcome.rejected.isEmpty {
                throw IntegrationError("\(outcome.rejected.count) of \(rows.count) rows rejected: nothing imported")
            }
            if store {
                _ = try SpendStore(database: database).store(
                    checked.entries, origin: "feed", by: actor, feed: .init(feedID: feed.id, from: from, to: to))
                outcome.imported = checked.entries.count
            }
        } catch {
            outcome.error = (error as? HTTPError)?.message ?? (error as? IntegrationError)?.description ?? "\(error)"
        }
        return outcome
    }

    public func fetch(_ feed: SpendFeed, _ url: String, sealedHeaders: () throws -> String?, deadline: Date? = nil) throws
        -> (Int, [UInt8])
    {
        var timeout = Double(feed.timeoutSeconds)
        if let deadline {
            timeout = min(timeout, deadline.timeIntervalSinceNow)
            guard timeout >= 1 else {
                throw IntegrationError("the preview ran out of time; Run now (done by the worker) has no such limit")
            }
        }
        var headers: [(String, String)] = [("User-Agent", "Waymark/1.0 (spend feed)")]
        if let sealed = try sealedHeaders() {
            let pairs = (try? JSONSerialization.jsonObject(with: Data(try secrets.open(sealed).utf8))) as? [[String]] ?? []
            headers += pairs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
        }
        let request = HTTPRequest(
            method: feed.method, url: url, headers: headers, connectTimeout: min(5, timeout),
            timeout: timeout, maxResponseBytes: SpendFeedRunner.maxBytes)
        do {
            let response = try outbound.send(request)
            return (response.status, response.body)
        } catch {
            throw IntegrationError(Redaction.scrub("\(Redaction.withoutQuery(url)): \(error)", secrets: headers.map(\.1)))
        }
    }

    /// CSV with a header row (UTF-8, BOM or not, LF or CRLF, RFC 4180 quotes) → rows by column.
    public static func csvRows(_ body: [UInt8]) throws -> [[String: String]] {
        var data = Data(body)
        if data.starts(with: [0xEF, 0xBB, 0xBF]) { data = data.dropFirst(3) }
        // CSV.swift loses a decoding error in the header row (see SpendInput.fromCSV).
        guard String(validating: data, as: UTF8.self) != nil else { throw IntegrationError("the body is not UTF-8 text") }
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: InputStream(data: data), hasHeaderRow: true, trimFields: false)
        } catch {
            throw IntegrationError("the body is not CSV: \(error)")
        }
        let header = (reader.headerRow ?? []).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !header.isEmpty else { throw IntegrationError("the CSV has no header row") }
        var rows: [[String: String]] = []
        while let fields = reader.next() {
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            var row: [String: String] = [:]
            for (i, name) in header.enumerated() { row[name] = i < fields.count ? fields[i] : "" }
            rows.append(row)
        }
        if let error = reader.error { throw IntegrationError("the body is not valid CSV (\(error))") }
        return rows
    }

    /// JSON: the array at `path` (dotted keys; empty = the document), each row an object.
    public static func jsonRows(_ body: [UInt8], path: String) throws -> [[String: String]] {
        guard var node = try? JSONSerialization.jsonObject(with: Data(body)) else { throw IntegrationError("the body is not JSON") }
        for key in path.split(separator: ".") where !key.isEmpty {
            guard let next = (node as? [String: Any])?[String(key)] else { throw IntegrationError("the JSON has no \(path)") }
            node = next
        }
        guard let array = node as? [Any] else {
            throw IntegrationError("the JSON at \(path.isEmpty ? "the top" : path) is not an array of rows")
        }
        return try array.map { item in
            guard let object = item as? [String: Any] else { throw IntegrationError("a row of the JSON is not an object") }
            return object.compactMapValues { jsonText($0) }
        }
    }

    /// Feed rows → spend rows of the feed's source; a campaign by key, id, name, or the value of
    /// a tracking parameter on its clicks.
    public func map(_ feed: SpendFeed, _ rows: [(row: Int, fields: [String: String])]) throws -> ([SpendInput], [SpendRowError]) {
        let m = feed.mapping
        var byParam: [String: String] = [:]
        if m.campaignMatch.hasPrefix("param:"), let column = m.campaign {
            byParam = try CampaignStore.byParameter(
                database, sourceID: feed.sourceID, name: String(m.campaignMatch.dropFirst(6)),
                values: Array(Set(rows.compactMap { $0.fields[column] })), since: "now() - interval '90 days'"
            )
            .mapValues(String.init)
        }
        var inputs: [SpendInput] = []
        var errors: [SpendRowError] = []
        for (n, f) in rows {
            func fail(_ field: String, _ message: String) { errors.append(SpendRowError(row: n, field: field, message: message)) }
            guard let dateText = f[m.date] else {
                fail("date", "the row has no column \(m.date)")
                continue
            }
            guard let day = SpendFeedRunner.parse(dateText, feed.dateFormat) else {
                fail("date", "\"\(dateText)\" is not a date in \(feed.dateFormat)")
                continue
            }
            var campaign = ""
            if let column = m.campaign, let value = f[column]?.trimmingCharacters(in: .whitespaces), !value.isEmpty {
                if m.campaignMatch.hasPrefix("param:") {
                    guard let id = byParam[value] else {
                        fail("campaign", "no campaign of this source has clicks with \(m.campaignMatch.dropFirst(6)) = \(value)")
                        continue
                    }
                    campaign = id
                } else {
                    campaign = value
                }
            }
            var dimensions: [String: String] = [:]
            for (name, column) in m.dimensions { dimensions[name] = f[column] ?? "" }
            inputs.append(
                SpendInput(
                    row: n, date: day, source: String(feed.sourceID), campaign: campaign, amount: f[m.amount] ?? "",
                    currency: m.currency.flatMap { f[$0] } ?? m.fixedCurrency ?? "", dimensions: dimensions))
        }
        return (inputs, errors)
    }
}
