import Foundation
import Postgres

/// The rows a campaign's conversion reporting is resolved from (`ReportingResolver` holds the
/// rules): read as the source is now, so a change of the source reaches every inheriting campaign.
extension CampaignStore {
    /// `explained`: also the description and warnings the pages show (two more queries; the
    /// postback path does without).
    public static func reporting(on c: PostgresConnection, campaignID: Int64, explained: Bool = true) throws -> EffectiveReporting? {
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
        var out = try ReportingResolver.resolve(r)
        guard explained else { return out }
        var integration: ReportingResolver.PushIntegration?
        if let id = out.integrationID,
            let i = try c.query(
                """
                SELECT i.provider, i.status, s.name FROM integrations i JOIN traffic_sources s ON s.id = i.traffic_source_id
                  WHERE i.id = \(id)
                """
            ).first
        {
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
            integration = ReportingResolver.PushIntegration(
                provider: i["provider"] ?? "", status: i["status"] ?? "", sourceName: i["name"] ?? "", unmappedEvents: unmapped)
        }
        ReportingResolver.explain(&out, integration: integration)
        return out
    }
}
