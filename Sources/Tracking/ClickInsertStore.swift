import Catalog
import Foundation
import Postgres
import WaymarkCore

/// The click writer's own connection and its INSERTs of `clicks` and `lander_clicks` (a
/// replayed click, or a repeated click-through, is stored once). Not Sendable: it belongs to
/// the writer's thread.
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

    /// One statement per batch, whatever its size: each column travels as one array parameter
    /// and `unnest` turns them back into rows. Parameter slots past the highest one the batch
    /// uses are left out (NULL by default): most sources fill a few of the 30, and every array
    /// costs PostgreSQL a parse per row. Live clicks carry fresh ids, so the first try has no
    /// ON CONFLICT (its speculative insertion was about a fifth of a row's cost); a unique
    /// violation (a spooled batch that had been stored before the connection broke) is tried
    /// again skipping the rows already in.
    public func insert(_ clicks: [Click]) throws {
        if connection == nil { connection = try PostgresConnection(conninfo: conninfo) }
        let lastSlot = min(TrafficSource.maxParameters, clicks.reduce(0) { max($0, $1.slots.keys.max() ?? 0) })
        var columns = [[String?]](repeating: [], count: ClickInsertStore.fixedColumns.count + lastSlot)
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
            for slot in stride(from: 1, through: lastSlot, by: 1) { columns[fixed.count + slot - 1].append(c.slots[slot]) }
        }
        let binds = columns.map { PostgresArrayLiteral.encode($0) }
        if let error = execute(ClickInsertStore.insertSQL(slots: lastSlot), binds) {
            guard error.sqlState == "23505" else { throw error }
            if let error = execute(ClickInsertStore.insertSQL(slots: lastSlot, skippingStored: true), binds) { throw error }
        }
    }

    // A returned error rather than a catch and rethrow: the 6.3 compiler crashes on the latter here.
    private func execute(_ sql: String, _ binds: [String?]) -> PostgresError? {
        do {
            try connection!.query(PostgresQuery(unescaped: sql, binds: binds), prepared: true)
            return nil
        } catch {
            return error
        }
    }

    static let fixedColumns: [(name: String, type: String)] = [
        ("id", "text"), ("clicked_at", "float8"), ("campaign_id", "bigint"), ("traffic_source_id", "bigint"),
        ("workspace_id", "bigint"), ("ip", "text"), ("user_agent", "text"), ("referrer", "text"), ("external_id", "text"),
        ("cost", "numeric"), ("is_bot", "bool"), ("is_unique", "bool"), ("country", "text"), ("device", "text"), ("os", "text"),
        ("browser", "text"), ("destination", "text"), ("extra", "jsonb"), ("flow_id", "bigint"), ("flow_path", "smallint"),
        ("lander_id", "bigint"), ("offer_id", "bigint"),
    ]
    /// Every variant, made once: the fixed columns and slots 1…n, without and with ON CONFLICT
    /// (2 × 31 statements at most, each prepared once per connection).
    private static let insertStatements: [(plain: String, skippingStored: String)] = (0...TrafficSource.maxParameters).map { slots in
        let columns = fixedColumns + (0..<slots).map { (name: "p\($0 + 1)", type: "text") }
        let names = columns.map(\.name).joined(separator: ", ")
        let arrays = columns.enumerated().map { "$\($0.offset + 1)::\($0.element.type)[]" }.joined(separator: ", ")
        let select = columns.map { $0.name == "clicked_at" ? "to_timestamp(u.clicked_at)" : "u." + $0.name }.joined(separator: ", ")
        let insert = "INSERT INTO clicks (\(names)) SELECT \(select) FROM unnest(\(arrays)) AS u(\(names))"
        return (insert, insert + " ON CONFLICT DO NOTHING")
    }
    static func insertSQL(slots: Int, skippingStored: Bool = false) -> String {
        skippingStored ? insertStatements[slots].skippingStored : insertStatements[slots].plain
    }

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
