import Catalog
import Foundation
import Postgres
import WaymarkCore

/// A stored click as a lander's click-through needs it, with the offer it keeps (drawn at the
/// click, or at an earlier click-through). Found within the second its id names, so the lookup
/// touches one day's partition.
public enum LanderClickStore {
    public static func find(_ id: String, in database: PostgresPool) throws -> RecentClicks.Entry? {
        guard let second = ClickID.time(of: id) else { return nil }
        let slots = (1...TrafficSource.maxParameters).map { "k.p\($0)" }.joined(separator: ", ")
        guard
            let row = try database.query(
                """
                SELECT k.id, k.clicked_at, k.campaign_id, k.traffic_source_id, k.workspace_id, k.ip, k.user_agent, k.referrer,
                       k.external_id, k.cost::text AS cost, k.is_bot, k.is_unique, k.country, k.device, k.os, k.browser,
                       k.destination, k.extra::text AS extra, k.flow_id, k.flow_path, k.lander_id,
                       coalesce(k.offer_id, t.offer_id) AS offer_id, \(unescaped: slots)
                FROM clicks k LEFT JOIN lander_clicks t ON t.click_id = k.id
                WHERE k.id = \(id) AND k.clicked_at >= \(second) AND k.clicked_at < \(second.addingTimeInterval(1))
                """, prepared: true
            ).first
        else { return nil }
        return RecentClicks.Entry(click: try click(row), offerID: try row.decode("offer_id", as: Int64?.self))
    }

    private static func click(_ row: PostgresRow) throws -> Click {
        var slots: [Int: String] = [:]
        for slot in 1...TrafficSource.maxParameters {
            if let value = row["p\(slot)"] { slots[slot] = value }
        }
        let extra = (row["extra"]).flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        return Click(
            id: try row.decode("id"), clickedAt: try row.decode("clicked_at"), campaignID: try row.decode("campaign_id"),
            trafficSourceID: try row.decode("traffic_source_id"), workspaceID: try row.decode("workspace_id", as: Int64?.self),
            ip: try row.decode("ip"), userAgent: try row.decode("user_agent"), referrer: try row.decode("referrer"),
            externalID: try row.decode("external_id", as: String?.self), cost: try row.decode("cost"), isBot: try row.decode("is_bot"),
            isUnique: try row.decode("is_unique"), country: try row.decode("country"), device: try row.decode("device"),
            os: try row.decode("os"), browser: try row.decode("browser"), destination: try row.decode("destination"), slots: slots,
            extra: extra, flowID: try row.decode("flow_id", as: Int64?.self),
            flowPath: try row.decode("flow_path", as: Int?.self), landerID: try row.decode("lander_id", as: Int64?.self))
    }
}
