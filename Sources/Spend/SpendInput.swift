import CSV
import Foundation
import Web

/// One spend row as it arrived (JSON entry or CSV line), before it is checked.
public struct SpendInput: Sendable {
    /// 1-based: the entry's index in a JSON batch, the data row in a CSV file.
    public var row: Int
    public var date: String
    /// An id (JSON) or an id / exact name (CSV).
    public var source: String
    /// An id (JSON) or an id / key / exact name (CSV).
    public var campaign: String
    public var amount: String
    public var currency: String
    public var dimensions: [String: String]
    /// JSON rows name sources and campaigns by id only: `"traffic_source_id": 0` is no id, even
    /// when a source happens to be called "0".
    public var idsOnly = false

    public init(row: Int, date: String, source: String, campaign: String, amount: String, currency: String, dimensions: [String: String]) {
        self.row = row
        self.date = date
        self.source = source
        self.campaign = campaign
        self.amount = amount
        self.currency = currency
        self.dimensions = dimensions
    }
}

/// Reading spend rows out of request bodies: no database here, so the parsing is fuzzed on its
/// own (Tests/Fuzz/FuzzSpendCSV.swift, FuzzSpendJSON.swift). `SpendChecker` checks the rows.
extension SpendInput {
    /// At most this many rows per CSV file or JSON batch.
    public static let maxRows = 100_000

    /// Rows of a CSV file `date,traffic_source,campaign,amount,currency[,NAME…]` (UTF-8, BOM
    /// or not, LF or CRLF, RFC 4180 quotes); a file-level problem throws a 422.
    public static func fromCSV(_ data: Data) throws(HTTPError) -> [SpendInput] {
        // CSV.swift loses a decoding error in the header row and reads on after the bad byte,
        // splitting the row there (found by Tests/Fuzz spend-csv): check the encoding first.
        guard String(validating: data, as: UTF8.self) != nil else {
            throw HTTPError.validation(["file": "is not UTF-8 text (save the CSV as UTF-8)"])
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(stream: InputStream(data: data), hasHeaderRow: true, trimFields: false)
        } catch {
            throw HTTPError.validation(["file": "cannot be read as CSV: \(error)"])
        }
        let header = (reader.headerRow ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let expected = ["date", "traffic_source", "campaign", "amount", "currency"]
        guard header.count >= 5, Array(header.prefix(5)) == expected else {
            throw HTTPError.validation([
                "file":
                    "the header must start with date,traffic_source,campaign,amount,currency"
                    + " (got \(header.prefix(6).joined(separator: ",")))"
            ])
        }
        let names = Array(header.dropFirst(5))
        var rows: [SpendInput] = []
        var row = 0
        while let fields = reader.next() {
            row += 1
            if fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }  // empty lines
            if rows.count >= maxRows { throw HTTPError.payloadTooLarge("at most \(maxRows) rows per file") }
            func field(_ i: Int) -> String { i < fields.count ? fields[i] : "" }
            var dimensions: [String: String] = [:]
            for (i, name) in names.enumerated() where !name.isEmpty { dimensions[name] = field(5 + i) }
            rows.append(
                SpendInput(
                    row: row, date: field(0), source: field(1), campaign: field(2), amount: field(3), currency: field(4),
                    dimensions: dimensions))
        }
        if let error = reader.error { throw HTTPError.validation(["file": "is not valid CSV (\(error))"]) }
        return rows
    }

    /// Rows of a `POST /api/v1/spend` JSON body `{"entries":[{date, traffic_source_id, …}]}`.
    public static func fromJSON(_ body: [String: Any]) throws(HTTPError) -> [SpendInput] {
        guard let list = body["entries"] as? [Any] else { throw HTTPError.validation(["entries": "must be a list of entries"]) }
        if list.count > maxRows { throw HTTPError.payloadTooLarge("at most \(maxRows) entries per request") }
        func text(_ v: Any?) -> String {
            if let s = v as? String { return s }
            if let n = v as? NSNumber, !isJSONBool(n) { return n.stringValue }
            return v == nil || v is NSNull ? "" : "\u{0}invalid"
        }
        return list.enumerated().map { i, item in
            let e = item as? [String: Any] ?? [:]
            var dimensions: [String: String] = [:]
            for (k, v) in e["dimensions"] as? [String: Any] ?? [:] { dimensions[k] = text(v) }
            var input = SpendInput(
                row: i + 1, date: text(e["date"]), source: text(e["traffic_source_id"]), campaign: text(e["campaign_id"]),
                amount: text(e["amount"]), currency: text(e["currency"]), dimensions: dimensions)
            input.idsOnly = true
            return input
        }
    }
}
