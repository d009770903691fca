import Foundation
import Postgres
import Web

/// The metrics an integration pulled, as the API and the detail page show them.
extension IntegrationStore {
    public static let metricLevels = ["campaign", "ad_group", "ad", "keyword"]

    /// One level's totals over the period.
    public struct MetricSummary: Sendable, Encodable {
        public var level: String
        public var rows: Int
        public var impressions: Int64
        public var clicks: Int64
        /// Decimal text in the account currency.
        public var cost: String
        public var currency: String
    }

    /// One stored row: a day at a level.
    public struct StoredMetric: Sendable, Encodable {
        public var day: String
        public var campaignID: String
        public var campaignName: String
        public var adGroupID: String
        public var adGroupName: String
        public var adID: String
        public var adName: String
        public var keyword: String
        public var impressions: Int64
        public var clicks: Int64
        public var cost: String
        public var currency: String
    }

    /// `GET …/metrics`: a summary per level and rows by day and campaign (or the chosen level).
    public struct Metrics: Sendable, Encodable {
        public var from: String
        public var to: String
        public var level: String
        public var summary: [MetricSummary]
        public var rows: [StoredMetric]
    }

    public func metrics(_ integrationID: Int64, level: String, from: String, to: String) throws -> Metrics {
        guard IntegrationStore.metricLevels.contains(level) else {
            throw HTTPError.badRequest("level must be campaign, ad_group, ad or keyword", field: "level")
        }
        let summary = try database.query(
            """
            SELECT level, count(*) AS n, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(cost)::text AS cost,
              min(currency) AS currency
            FROM integration_metrics WHERE integration_id = \(integrationID) AND day BETWEEN \(from)::date AND \(to)::date
              GROUP BY level ORDER BY level
            """
        ).map { r in
            MetricSummary(
                level: r["level"] ?? "", rows: Int(r["n"] ?? "0") ?? 0, impressions: Int64(r["impressions"] ?? "0") ?? 0,
                clicks: Int64(r["clicks"] ?? "0") ?? 0, cost: r["cost"] ?? "0", currency: r["currency"] ?? "")
        }
        let rows = try database.query(
            """
            SELECT day::text AS day, campaign_id, campaign_name, ad_group_id, ad_group_name, ad_id, ad_name, keyword, impressions,
              clicks, cost::text AS cost, currency
            FROM integration_metrics WHERE integration_id = \(integrationID) AND level = \(level) AND day BETWEEN \(from)::date
              AND \(to)::date
            ORDER BY day DESC, campaign_id, ad_group_id, ad_id, keyword LIMIT 2000
            """
        ).map { r in
            StoredMetric(
                day: r["day"] ?? "", campaignID: r["campaign_id"] ?? "", campaignName: r["campaign_name"] ?? "",
                adGroupID: r["ad_group_id"] ?? "", adGroupName: r["ad_group_name"] ?? "", adID: r["ad_id"] ?? "",
                adName: r["ad_name"] ?? "",
                keyword: r["keyword"] ?? "", impressions: Int64(r["impressions"] ?? "0") ?? 0, clicks: Int64(r["clicks"] ?? "0") ?? 0,
                cost: r["cost"] ?? "0", currency: r["currency"] ?? "")
        }
        return Metrics(from: from, to: to, level: level, summary: summary, rows: rows)
    }
}
