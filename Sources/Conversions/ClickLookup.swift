import Catalog
import Foundation
import Postgres
import WaymarkCore

/// A stored click as conversions need it: found by id within the second its id names, so the
/// lookup touches one day's partition.
public struct ClickForConversion: Sendable {
    public var id: String
    public var clickedAt: Date
    public var campaignID: Int64
    public var trafficSourceID: Int64
    public var workspaceID: Int64?
    public var externalID: String?
    public var campaignCurrency: String
    public var workspaceSecret: String?
    /// The click's parameters by name (slots of its source, then extras).
    public var parameters: [String: String]
    /// What Conversion-API pushes send along: the visitor's address and browser, the landing page.
    public var ip = ""
    public var userAgent = ""
    public var destination = ""
}

public enum ClickLookup {
    /// Prepared: the lookup's plan is cached per connection (planning it cost about as much as
    /// running it); the click id's second prunes it to one day partition.
    public static func find(_ id: String, on c: PostgresConnection) throws -> ClickForConversion? {
        guard let second = ClickID.time(of: id) else { return nil }
        let rows = try c.query(
            """
            SELECT k.id, k.clicked_at, k.campaign_id, k.traffic_source_id, k.workspace_id, k.external_id, k.extra::text AS extra, k.ip, k.user_agent, k.destination,
                   \(unescaped: slotColumns), c.currency, w.postback_secret, s.parameters::text AS source_parameters
            FROM clicks k
            JOIN campaigns c ON c.id = k.campaign_id
            JOIN traffic_sources s ON s.id = k.traffic_source_id
            LEFT JOIN workspaces w ON w.id = k.workspace_id
            WHERE k.id = \(id) AND k.clicked_at >= \(second) AND k.clicked_at < \(second.addingTimeInterval(1))
            """, prepared: true)
        guard let row = rows.first else { return nil }
        let parameters = ClickLookup.parameters(row)
        return ClickForConversion(
            id: try row.decode("id"), clickedAt: try row.decode("clicked_at"), campaignID: try row.decode("campaign_id"),
            trafficSourceID: try row.decode("traffic_source_id"), workspaceID: try row.decode("workspace_id", as: Int64?.self),
            externalID: try row.decode("external_id", as: String?.self), campaignCurrency: try row.decode("currency"),
            workspaceSecret: try row.decode("postback_secret", as: String?.self), parameters: parameters,
            ip: row["ip"] ?? "", userAgent: row["user_agent"] ?? "", destination: row["destination"] ?? "")
    }

    /// `k.p1, …, k.p30` for a query on `clicks k`.
    public static let slotColumns = (1...TrafficSource.maxParameters).map { "k.p\($0)" }.joined(separator: ", ")

    /// A click's parameters by name from a row with `extra`, `source_parameters` and the slots.
    public static func parameters(_ row: PostgresRow) -> [String: String] {
        var parameters: [String: String] = [:]
        if let extra = row["extra"], let object = try? JSONSerialization.jsonObject(with: Data(extra.utf8)) as? [String: String] {
            parameters = object
        }
        let declared =
            (try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data((row["source_parameters"] ?? "[]").utf8))) ?? []
        for p in declared {
            if let v = row["p\(p.slot)"] { parameters[p.name] = v }
        }
        return parameters
    }
}
