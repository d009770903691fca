import Foundation
import Glibc
import Postgres
import WaymarkCore
import Web

/// Filters of the conversions page and API: `from`/`to` (dates, UTC, inclusive), campaign,
/// source, status, event.
public struct ConversionFilter {
    public var from: String
    public var to: String
    public var campaignID: Int64?
    public var sourceID: Int64?
    public var status: String?
    public var event: String?

    public init(_ request: Request, defaultDays: Int) throws(HTTPError) {
        (from, to) = try Dates.period(request, defaultDays: defaultDays)
        func id(_ name: String) throws(HTTPError) -> Int64? {
            guard let text = request.queryValue(name), !text.isEmpty else { return nil }
            guard let v = Int64(text) else { throw HTTPError.badRequest("\(name) must be a number", field: name) }
            return v
        }
        campaignID = try id("campaign_id")
        sourceID = try id("traffic_source_id")
        status = request.queryValue("status").flatMap { $0.isEmpty ? nil : $0 }
        if let status, PostbackInput.Status(rawValue: status) == nil {
            throw HTTPError.badRequest("status must be approved, pending or declined", field: "status")
        }
        event = request.queryValue("event").flatMap { $0.isEmpty ? nil : $0 }
    }
}

public struct ConversionRow {
    public var id: Int64
    public var clickID: String
    public var campaignID: Int64
    public var campaignName: String
    public var sourceID: Int64
    public var sourceName: String
    public var event: String
    public var txid: String?
    public var status: String
    public var payout: String
    public var currency: String
    public var convertedAt: Date
    public var updatedAt: Date
    public var clickedAt: Date

    public var json: [String: Any] {
        [
            "id": String(id), "click_id": clickID, "campaign_id": campaignID, "traffic_source_id": sourceID, "event": event,
            "txid": txid ?? NSNull(), "status": status, "payout": payout, "currency": currency,
            "converted_at": RFC3339.string(from: convertedAt),
            "updated_at": RFC3339.string(from: updatedAt), "clicked_at": RFC3339.string(from: clickedAt),
        ]
    }

    public var page: [String: Any] {
        [
            "id": id, "click_id": click, "click_href": "/clicks/" + URLEncoding.encode(clickID), "campaign_id": campaignID,
            "campaign": campaignName,
            "source": sourceName, "event": event, "txid": txid ?? "", "status": status, "payout": payout, "currency": currency,
            "converted_at": RFC3339.string(from: convertedAt), "updated": updatedAt.timeIntervalSince(convertedAt) > 1,
        ]
    }

    private var click: String { clickID }
}

public enum ConversionQueries {
    public static let select = """
        SELECT v.id, v.click_id, v.campaign_id, c.name AS campaign_name, v.traffic_source_id, s.name AS source_name, v.event_key, v.txid,
               v.status, v.payout::text AS payout, v.currency, v.converted_at, v.updated_at, v.clicked_at
        FROM conversions v JOIN campaigns c ON c.id = v.campaign_id JOIN traffic_sources s ON s.id = v.traffic_source_id
        """

    public static func decode(_ r: PostgresRow) throws -> ConversionRow {
        ConversionRow(
            id: try r.decode("id"), clickID: try r.decode("click_id"), campaignID: try r.decode("campaign_id"),
            campaignName: r["campaign_name"] ?? "",
            sourceID: try r.decode("traffic_source_id"), sourceName: r["source_name"] ?? "", event: try r.decode("event_key"),
            txid: try r.decode("txid", as: String?.self), status: try r.decode("status"), payout: Money.trim(try r.decode("payout")),
            currency: try r.decode("currency"), convertedAt: try r.decode("converted_at"), updatedAt: try r.decode("updated_at"),
            clickedAt: try r.decode("clicked_at"))
    }

    /// Newest first for pages (`after` nil); by id after the cursor for the API (its first page
    /// too: `after` 0), so that following `next_cursor` lists every row once.
    public static func list(_ database: PostgresPool, filter: ConversionFilter, actor: Actor, after: Int64?, limit: Int) throws
        -> [ConversionRow]
    {
        try database.query(
            """
            \(unescaped: select)
            WHERE \(fragment: actor.visibleWorkspaces("v.workspace_id"))
              AND v.converted_at >= \(filter.from)::date AND v.converted_at < \(filter.to)::date + 1
              AND (\(filter.campaignID)::bigint IS NULL OR v.campaign_id = \(filter.campaignID))
              AND (\(filter.sourceID)::bigint IS NULL OR v.traffic_source_id = \(filter.sourceID))
              AND (\(filter.status)::text IS NULL OR v.status = \(filter.status))
              AND (\(filter.event)::text IS NULL OR v.event_key = \(filter.event))
              AND v.id > \(after ?? 0)
            ORDER BY \(unescaped: after != nil ? "v.id" : "v.converted_at DESC, v.id DESC") LIMIT \(limit)
            """
        ).map(decode)
    }

    public static func forClick(_ database: PostgresPool, clickID: String) throws -> [ConversionRow] {
        try database.query("\(unescaped: select) WHERE v.click_id = \(clickID) ORDER BY v.id").map(decode)
    }
}

public struct ClickRow {
    public var id: String
    public var clickedAt: Date
    public var campaignID: Int64
    public var campaignName: String
    public var sourceID: Int64
    public var sourceName: String
    public var workspaceID: Int64?
    public var ip: String
    public var userAgent: String
    public var referrer: String
    public var externalID: String?
    public var cost: String
    public var isBot: Bool
    public var isUnique: Bool
    public var country: String
    public var device: String
    public var os: String
    public var browser: String
    public var destination: String
    public var parameters: [String: String]

    public var json: [String: Any] {
        [
            "id": id, "clicked_at": RFC3339.string(from: clickedAt), "campaign_id": campaignID, "traffic_source_id": sourceID,
            "ip": ip, "user_agent": userAgent, "referrer": referrer, "external_id": externalID ?? NSNull(), "cost": cost, "is_bot": isBot,
            "is_unique": isUnique, "country": country, "device": device, "os": os, "browser": browser, "destination": destination,
            "parameters": parameters,
        ]
    }

    public var page: [String: Any] {
        [
            "id": id, "clicked_at": RFC3339.string(from: clickedAt), "campaign_id": campaignID, "campaign": campaignName,
            "source_id": sourceID,
            "source": sourceName, "ip": ip, "user_agent": userAgent, "referrer": referrer, "external_id": externalID ?? "", "cost": cost,
            "is_bot": isBot, "is_unique": isUnique, "country": country, "device": device, "os": os, "browser": browser,
            "destination": destination,
            "visitor": [ip, country, device, os, browser].filter { !$0.isEmpty }.joined(separator: " · "),
        ]
    }
}

public enum ClickQueries {
    /// One click the actor may see, or 404.
    public static func get(_ database: PostgresPool, id: String, actor: Actor) throws -> ClickRow {
        guard let second = ClickID.time(of: id) else { throw HTTPError.notFound("no click \(id)") }
        guard
            let r = try database.query(
                """
                SELECT k.id, k.clicked_at, k.campaign_id, c.name AS campaign_name, k.traffic_source_id, s.name AS source_name, k.workspace_id,
                       k.ip, k.user_agent, k.referrer, k.external_id, k.cost::text AS cost, k.is_bot, k.is_unique, k.country, k.device, k.os,
                       k.browser, k.destination, k.extra::text AS extra, s.parameters::text AS source_parameters, \(unescaped: ClickLookup.slotColumns)
                FROM clicks k JOIN campaigns c ON c.id = k.campaign_id JOIN traffic_sources s ON s.id = k.traffic_source_id
                WHERE k.id = \(id) AND k.clicked_at >= \(second) AND k.clicked_at < \(second.addingTimeInterval(1))
                """
            ).first
        else { throw HTTPError.notFound("no click \(id)") }
        let workspaceID = try r.decode("workspace_id", as: Int64?.self)
        try actor.requireVisible(workspace: workspaceID)
        let parameters = ClickLookup.parameters(r)
        return ClickRow(
            id: try r.decode("id"), clickedAt: try r.decode("clicked_at"), campaignID: try r.decode("campaign_id"),
            campaignName: r["campaign_name"] ?? "",
            sourceID: try r.decode("traffic_source_id"), sourceName: r["source_name"] ?? "", workspaceID: workspaceID,
            ip: try r.decode("ip"),
            userAgent: try r.decode("user_agent"), referrer: try r.decode("referrer"),
            externalID: try r.decode("external_id", as: String?.self),
            cost: Money.trim(try r.decode("cost")), isBot: try r.decode("is_bot"), isUnique: try r.decode("is_unique"),
            country: try r.decode("country"),
            device: try r.decode("device"), os: try r.decode("os"), browser: try r.decode("browser"),
            destination: try r.decode("destination"),
            parameters: parameters)
    }
}
