import Foundation
import Postgres

/// Resolves a campaign's conversion reporting: its own setting, or its traffic source's as the
/// source is now (so a change of the source reaches every inheriting campaign at once, for new
/// conversions; queued deliveries keep what they were rendered with).
public enum ReportingResolver {
    /// `explained`: also the description and warnings the pages show (two more queries; the
    /// postback path does without).
    public static func resolve(on c: PostgresConnection, campaignID: Int64, explained: Bool = true) throws -> EffectiveReporting? {
        guard
            let r = try c.query(
                """
                SELECT c.reporting, c.reporting_postback_url, c.reporting_integration_id, c.reporting_send,
                  c.reporting_payout_percent::text AS c_percent,
                       array_to_string(c.reporting_events, ',') AS c_events, c.reporting_reversals,
                       s.name AS source_name, s.postback_enabled, s.postback_url, s.capi_integration_id, s.postback_send,
                       s.postback_payout_percent::text AS s_percent, array_to_string(s.postback_events, ',') AS s_events,
                         s.postback_reversals
                FROM campaigns c JOIN traffic_sources s ON s.id = c.traffic_source_id WHERE c.id = \(campaignID)
                """, prepared: true
            ).first
        else { return nil }
        func events(_ column: String) -> [String] { (r[column] ?? "").split(separator: ",").map(String.init) }
        let sourceName = r["source_name"] ?? ""
        var out: EffectiveReporting
        switch ConversionReporting.Method(rawValue: r["reporting"] ?? "source") ?? .source {
        case .source:
            let postback = try r.decode("postback_enabled", as: Bool.self) ? r["postback_url"].flatMap { $0.isEmpty ? nil : $0 } : nil
            out = EffectiveReporting(
                postbackURL: postback, integrationID: try r.decode("capi_integration_id", as: Int64?.self),
                rules: SendBackRules(
                    send: r["postback_send"] ?? "all", events: events("s_events"), reversals: try r.decode("postback_reversals")),
                payoutPercent: r["s_percent"] ?? "100", from: "traffic_source", sourceName: sourceName, description: "", warnings: [])
        case .postback:
            out = own(r, events: events("c_events"), postback: r["reporting_postback_url"], integration: nil, sourceName: sourceName)
        case .capi:
            out = own(
                r, events: events("c_events"), postback: nil, integration: try r.decode("reporting_integration_id", as: Int64?.self),
                sourceName: sourceName)
        case .none:
            out = own(r, events: [], postback: nil, integration: nil, sourceName: sourceName)
        }
        guard explained else { return out }
        var parts: [String] = []
        if let url = out.postbackURL { parts.append("S2S postback to \(url)") }
        if let id = out.integrationID,
            let i = try c.query(
                """
                SELECT i.provider, i.status, s.name FROM integrations i JOIN traffic_sources s ON s.id = i.traffic_source_id
                  WHERE i.id = \(id)
                """
            ).first
        {
            let label = "\(i["provider"] ?? "") on \(i["name"] ?? "")"
            parts.append("Conversion API (\(label))")
            switch i["status"] ?? "" {
            case "paused": out.warnings.append("The Conversion-API integration \(label) is paused: nothing is pushed until it resumes.")
            case "error": out.warnings.append("The Conversion-API integration \(label) needs reconnecting: nothing is pushed meanwhile.")
            case "active": break
            default: out.warnings.append("The Conversion-API integration \(label) is not connected: nothing is pushed.")
            }
            // Events this campaign receives with no enabled mapping are not pushed.
            let unmapped = try c.query(
                """
                SELECT e.key FROM (SELECT DISTINCT event_key AS key FROM conversions WHERE campaign_id = \(campaignID)
                  AND converted_at > now() - interval '30 days'
                                   UNION SELECT 'conversion') e
                WHERE NOT EXISTS (SELECT 1 FROM conversion_mappings m WHERE m.integration_id = \(id) AND m.event_key = e.key AND m.enabled)
                ORDER BY e.key
                """
            ).compactMap { $0["key"] }
            if !unmapped.isEmpty {
                out.warnings.append(
                    "No enabled mapping on \(label) for the event\(unmapped.count == 1 ? "" : "s") \(unmapped.joined(separator: ", ")): "
                        + "those conversions are not pushed."
                )
            }
        }
        let what = parts.isEmpty ? "nothing is reported back" : parts.joined(separator: " and ")
        out.description =
            out.from == "traffic_source" ? "From traffic source \(sourceName): \(what)." : "This campaign's own setting: \(what)."
        return out
    }

    private static func own(_ r: PostgresRow, events: [String], postback: String?, integration: Int64?, sourceName: String)
        -> EffectiveReporting
    {
        EffectiveReporting(
            postbackURL: postback, integrationID: integration,
            rules: SendBackRules(send: r["reporting_send"] ?? "all", events: events, reversals: r["reporting_reversals"] == "t"),
            payoutPercent: r["c_percent"] ?? "100", from: "campaign", sourceName: sourceName, description: "", warnings: [])
    }
}
