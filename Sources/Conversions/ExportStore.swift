import Foundation
import Postgres
import WaymarkCore

/// A workspace's raw clicks or conversions of a date range as CSV (Settings → Export), read
/// through a cursor 2 000 rows at a time and handed out in chunks of about 64 KB: the export is
/// never whole in memory, however long the range.
public struct ExportStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public enum Kind: String, Sendable {
        case clicks, conversions

        public var header: [String] {
            switch self {
            case .clicks:
                [
                    "click_id", "clicked_at", "traffic_source", "campaign", "external_id", "cost", "is_bot", "is_unique", "country",
                    "device",
                    "os", "browser", "ip", "user_agent", "referrer", "destination",
                ] + (1...30).map { "p\($0)" }
            case .conversions:
                [
                    "conversion_id", "converted_at", "click_id", "clicked_at", "traffic_source", "campaign", "event", "txid", "status",
                    "payout", "currency", "updated_at",
                ]
            }
        }

        /// The cursor's query; times as UTC RFC 3339 text, the range `[from, to]` in `zone`'s days.
        var query: String {
            let utc = "YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\""
            switch self {
            case .clicks:
                return """
                    SELECT k.id, to_char(k.clicked_at AT TIME ZONE 'UTC', '\(utc)'), s.name, c.name, k.external_id, k.cost::text,
                           k.is_bot::text, k.is_unique::text, k.country, k.device, k.os, k.browser, k.ip, k.user_agent, k.referrer,
                           k.destination, \((1...30).map { "k.p\($0)" }.joined(separator: ", "))
                    FROM clicks k JOIN campaigns c ON c.id = k.campaign_id JOIN traffic_sources s ON s.id = k.traffic_source_id
                    WHERE k.workspace_id = $1 AND k.clicked_at >= ($2::date::timestamp AT TIME ZONE $4)
                      AND k.clicked_at < (($3::date + 1)::timestamp AT TIME ZONE $4)
                    ORDER BY k.clicked_at, k.id
                    """
            case .conversions:
                return """
                    SELECT v.id::text, to_char(v.converted_at AT TIME ZONE 'UTC', '\(utc)'), v.click_id,
                           to_char(v.clicked_at AT TIME ZONE 'UTC', '\(utc)'), s.name, c.name, v.event_key, v.txid, v.status,
                           v.payout::text, v.currency, to_char(v.updated_at AT TIME ZONE 'UTC', '\(utc)')
                    FROM conversions v JOIN campaigns c ON c.id = v.campaign_id JOIN traffic_sources s ON s.id = v.traffic_source_id
                    WHERE v.workspace_id = $1 AND v.converted_at >= ($2::date::timestamp AT TIME ZONE $4)
                      AND v.converted_at < (($3::date + 1)::timestamp AT TIME ZONE $4)
                    ORDER BY v.converted_at, v.id
                    """
            }
        }
    }

    /// Writes the header and every row to `write`; returns the rows written. Stops early, quietly,
    /// when `write` returns false (the client went away).
    @discardableResult
    public func stream(
        _ kind: Kind, workspaceID: Int64, from: String, to: String, zone: String, write: ([UInt8]) -> Bool
    ) throws -> Int {
        try database.withConnection { c in
            try c.transaction { c in
                try c.query(
                    PostgresQuery(
                        unescaped: "DECLARE waymark_export NO SCROLL CURSOR FOR " + kind.query,
                        binds: [String(workspaceID), from, to, zone]))
                var chunk = Array(CSVText.row(kind.header).utf8)
                var rows = 0
                while true {
                    let batch = try c.query("FETCH 2000 FROM waymark_export")
                    if batch.isEmpty { break }
                    for row in batch {
                        chunk += CSVText.row(row.values).utf8
                        rows += 1
                        if chunk.count >= 64 << 10 {
                            guard write(chunk) else { return rows }
                            chunk.removeAll(keepingCapacity: true)
                        }
                    }
                }
                _ = write(chunk)
                return rows
            }
        }
    }
}
