import Foundation
import Postgres
import Web

/// A feed's run as its history shows it (`GET …/spend-feeds/{feed}/runs`, Run now's answer).
public struct SpendFeedRun: Sendable, Encodable {
    /// The dates the run read; null until it finished.
    public struct Window: Sendable, Encodable, Equatable {
        public var from: String?
        public var to: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(from, forKey: .from)
            try c.encode(to, forKey: .to)
        }

        enum CodingKeys: String, CodingKey { case from, to }
    }

    public var trigger: String
    public var startedAt: Date
    public var finishedAt: Date?
    public var window: Window
    public var httpStatus: Int?
    public var rowsRead: Int
    public var rowsImported: Int
    public var rowsRejected: Int
    /// The first 100 rejected rows.
    public var rejected: [SpendRowError]
    public var status: String
    public var error: String?

    public var succeeded: Bool { status == "success" }

    static let columns: PostgresQuery = """
        trigger, started_at, finished_at, window_from::text AS f, window_to::text AS t, http_status, rows_read, rows_imported,
        rows_rejected, rejected::text AS rejected, status, error
        """

    static func decode(_ r: PostgresRow) throws -> SpendFeedRun {
        SpendFeedRun(
            trigger: r["trigger"] ?? "", startedAt: try r.decode("started_at"), finishedAt: try r.decode("finished_at", as: Date?.self),
            window: Window(from: r["f"], to: r["t"]), httpStatus: r["http_status"].flatMap { Int($0) },
            rowsRead: Int(r["rows_read"] ?? "0") ?? 0, rowsImported: Int(r["rows_imported"] ?? "0") ?? 0,
            rowsRejected: Int(r["rows_rejected"] ?? "0") ?? 0,
            rejected: (try? JSONDecoder().decode([SpendRowError].self, from: Data((r["rejected"] ?? "[]").utf8))) ?? [],
            status: r["status"] ?? "", error: r["error"])
    }

    enum CodingKeys: String, CodingKey {
        case trigger, startedAt, finishedAt, window, httpStatus, rowsRead, rowsImported, rowsRejected, rejected, status, error
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(trigger, forKey: .trigger)
        try c.encode(RFC3339.string(from: startedAt), forKey: .startedAt)
        try c.encode(finishedAt.map(RFC3339.string), forKey: .finishedAt)
        try c.encode(window, forKey: .window)
        try c.encode(httpStatus, forKey: .httpStatus)
        try c.encode(rowsRead, forKey: .rowsRead)
        try c.encode(rowsImported, forKey: .rowsImported)
        try c.encode(rowsRejected, forKey: .rowsRejected)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(status, forKey: .status)
        try c.encode(error, forKey: .error)
    }
}

/// A run's answer (the preview's): what was read, what would be or was imported, what not.
extension SpendFeedRunner.Outcome: Encodable {
    enum CodingKeys: String, CodingKey {
        case status, window, httpStatus, rowsRead, rowsImported, rowsRejected, rejected, error, rows
    }

    enum RowKeys: String, CodingKey { case row, date, campaignId, dimensions, amount, currency }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(ok ? "success" : "failed", forKey: .status)
        try c.encode(SpendFeedRun.Window(from: from, to: to), forKey: .window)
        try c.encode(httpStatus, forKey: .httpStatus)
        try c.encode(read, forKey: .rowsRead)
        try c.encode(imported, forKey: .rowsImported)
        try c.encode(rejected.count, forKey: .rowsRejected)
        try c.encode(rejected, forKey: .rejected)
        try c.encode(error, forKey: .error)
        var rows = c.nestedUnkeyedContainer(forKey: .rows)
        for e in entries {
            var row = rows.nestedContainer(keyedBy: RowKeys.self)
            try row.encode(e.row, forKey: .row)
            try row.encode(e.day, forKey: .date)
            try row.encode(e.campaignID, forKey: .campaignId)
            try row.encode(e.dimensions, forKey: .dimensions)
            try row.encode(e.amount, forKey: .amount)
            try row.encode(e.currency, forKey: .currency)
        }
    }
}
