import Catalog
import Foundation
import Postgres
import WaymarkCore

/// The click writer's own connection and its INSERTs of `clicks` and `lander_clicks` (… ON
/// CONFLICT DO NOTHING: a replayed click, or a repeated click-through, is stored once). Not
/// Sendable: it belongs to the writer's thread.
public final class ClickInsertStore {
    private let conninfo: String
    private var connection: PostgresConnection?

    public init(conninfo: String) { self.conninfo = conninfo }

    /// Forgets a broken connection; the next insert opens a new one.
    public func disconnect() { connection = nil }

    /// Makes the daily partitions the clicks need (the insert failed with 23514), on the open connection.
    public func ensurePartitions(for records: [ClickRecord]) throws {
        if let connection { try ClickPartitionStore.ensure(days: Set(records.compactMap(\.clickDay)), on: connection) }
    }

    /// The clicks, then the click-throughs (a click and its click-through may share a batch).
    /// Each statement commits alone; a batch that fails halfway is retried or spooled whole,
    /// and the rows already in are skipped on the second try.
    public func insert(_ records: [ClickRecord]) throws {
        var clicks: [Click] = []
        var throughs: [ClickThrough] = []
        for record in records {
            switch record {
            case .click(let click): clicks.append(click)
            case .through(let through): throughs.append(through)
            }
        }
        if !clicks.isEmpty { try insert(clicks) }
        if !throughs.isEmpty { try insert(throughs) }
    }

    public func insert(_ throughs: [ClickThrough]) throws {
        if connection == nil { connection = try PostgresConnection(conninfo: conninfo) }
        var columns = [[String?]](repeating: [], count: ClickInsertStore.throughColumns.count)
        for t in throughs {
            let row: [String?] = [
                t.clickID, String(t.clickedAt.timeIntervalSince1970), String(t.throughAt.timeIntervalSince1970), String(t.campaignID),
                String(t.trafficSourceID), t.workspaceID.map { String($0) }, String(t.flowID), String(t.flowPath), String(t.landerID),
                String(t.offerID), t.cost, t.isBot ? "t" : "f", t.isUnique ? "t" : "f", t.destination,
            ]
            for (i, value) in row.enumerated() { columns[i].append(value) }
        }
        let query = PostgresQuery(unescaped: ClickInsertStore.throughSQL, binds: columns.map { PostgresArrayLiteral.encode($0) })
        try connection!.query(query, prepared: true)
    }

    /// One statement for any batch size: each column travels as one array parameter and
    /// `unnest` turns them back into rows, so the statement is prepared once per connection.
    public func insert(_ clicks: [Click]) throws {
        if connection == nil { connection = try PostgresConnection(conninfo: conninfo) }
        var columns = [[String?]](repeating: [], count: ClickInsertStore.columnTypes.count)
        for i in columns.indices { columns[i].reserveCapacity(clicks.count) }
        for c in clicks {
            let fixed: [String?] = [
                c.id, String(c.clickedAt.timeIntervalSince1970), String(c.campaignID), String(c.trafficSourceID),
                c.workspaceID.map { String($0) },
                c.ip, c.userAgent, c.referrer, c.externalID, c.cost, c.isBot ? "t" : "f", c.isUnique ? "t" : "f", c.country, c.device,
                c.os, c.browser, c.destination, c.extra.isEmpty ? nil : JSONStringObject.encode(c.extra),
                c.flowID.map { String($0) }, c.flowPath.map { String($0) }, c.landerID.map { String($0) }, c.offerID.map { String($0) },
            ]
            for (i, value) in fixed.enumerated() { columns[i].append(value) }
            for slot in 1...TrafficSource.maxParameters { columns[fixed.count + slot - 1].append(c.slots[slot]) }
        }
        let query = PostgresQuery(unescaped: ClickInsertStore.insertSQL, binds: columns.map { PostgresArrayLiteral.encode($0) })
        try connection!.query(query, prepared: true)
    }

    public static let columnNames =
        [
            "id", "clicked_at", "campaign_id", "traffic_source_id", "workspace_id", "ip", "user_agent", "referrer",
            "external_id", "cost", "is_bot", "is_unique", "country", "device", "os", "browser", "destination", "extra",
            "flow_id", "flow_path", "lander_id", "offer_id",
        ]
        + (1...TrafficSource.maxParameters).map { "p\($0)" }
    public static let columnTypes =
        [
            "text", "float8", "bigint", "bigint", "bigint", "text", "text", "text", "text", "numeric", "bool", "bool",
            "text", "text", "text", "text", "text", "jsonb", "bigint", "smallint", "bigint", "bigint",
        ] + Array(repeating: "text", count: TrafficSource.maxParameters)
    public static let insertSQL: String = {
        let arrays = columnTypes.enumerated().map { "$\($0.offset + 1)::\($0.element)[]" }.joined(separator: ", ")
        let select = columnNames.map { $0 == "clicked_at" ? "to_timestamp(u.clicked_at)" : "u." + $0 }.joined(separator: ", ")
        return "INSERT INTO clicks (\(columnNames.joined(separator: ", "))) SELECT \(select) FROM unnest(\(arrays)) AS u("
            + columnNames.joined(separator: ", ") + ") ON CONFLICT DO NOTHING"
    }()

    static let throughColumns: [(name: String, type: String)] = [
        ("click_id", "text"), ("clicked_at", "float8"), ("through_at", "float8"), ("campaign_id", "bigint"),
        ("traffic_source_id", "bigint"), ("workspace_id", "bigint"), ("flow_id", "bigint"), ("flow_path", "smallint"),
        ("lander_id", "bigint"), ("offer_id", "bigint"), ("cost", "numeric"), ("is_bot", "bool"), ("is_unique", "bool"),
        ("destination", "text"),
    ]
    static let throughSQL: String = {
        let names = throughColumns.map(\.name)
        let arrays = throughColumns.enumerated().map { "$\($0.offset + 1)::\($0.element.type)[]" }.joined(separator: ", ")
        let select = names.map { $0.hasSuffix("_at") ? "to_timestamp(u.\($0))" : "u." + $0 }.joined(separator: ", ")
        return "INSERT INTO lander_clicks (\(names.joined(separator: ", "))) SELECT \(select) FROM unnest(\(arrays)) AS u("
            + names.joined(separator: ", ") + ") ON CONFLICT DO NOTHING"
    }()
}
