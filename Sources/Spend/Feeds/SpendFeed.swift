import Foundation
import Postgres
import WaymarkCore
import Web

/// A traffic source's spend feed: where its cost report is, how its columns map to spend
/// entries, and when the worker fetches it.
public struct SpendFeed: Sendable {
    /// Feed columns (CSV header names or JSON keys) → spend fields.
    public struct Mapping: Sendable, Codable, Equatable {
        public var date = "date"
        /// The column naming the campaign; nil = spend at source level.
        public var campaign: String?
        /// `key`, `id`, `name` (the Waymark campaign's) or `param:NAME` (a tracking parameter's
        /// value on the campaign's clicks, e.g. the network's campaign id).
        public var campaignMatch = "key"
        public var amount = "amount"
        public var currency: String?
        public var fixedCurrency: String?
        /// Tracking parameter → column, for parameter-level spend.
        public var dimensions: [String: String] = [:]

        public enum CodingKeys: String, CodingKey {
            case date, campaign, amount, currency, dimensions
            case campaignMatch = "campaign_match"
            case fixedCurrency = "fixed_currency"
        }
    }

    public var id: Int64
    public var sourceID: Int64
    public var workspaceID: Int64?
    public var name: String
    public var url: String
    public var method: String
    public var headerNames: [String]
    public var hasHeaders: Bool
    public var format: String
    public var jsonPath: String
    public var mapping: Mapping
    public var dateFormat: String
    public var timeZone: String
    public var everyHours: Int?
    public var dailyAt: String?
    public var lookbackDays: Int
    public var timeoutSeconds: Int
    public var status: String
    public var pausedReason: String?
    public var consecutiveFailures: Int
    public var maxFailures: Int
    public var nextRunAt: Date?
    public var lastRunAt: Date?
    public var createdBy: Int64

    public static let columns: PostgresQuery = """
        id, traffic_source_id, workspace_id, name, url, method, array_to_string(header_names, ',') AS header_names,
        headers_sealed IS NOT NULL AS has_headers,
        format, json_path, mapping::text AS mapping, date_format, time_zone, every_hours, daily_at, lookback_days, timeout_seconds, status,
        paused_reason, consecutive_failures, max_failures, next_run_at, last_run_at, created_by
        """

    public static func decode(_ r: PostgresRow) throws -> SpendFeed {
        SpendFeed(
            id: try r.decode("id"), sourceID: try r.decode("traffic_source_id"), workspaceID: try r.decode("workspace_id", as: Int64?.self),
            name: try r.decode("name"), url: try r.decode("url"), method: try r.decode("method"),
            headerNames: (r["header_names"] ?? "").split(separator: ",").map(String.init), hasHeaders: try r.decode("has_headers"),
            format: try r.decode("format"), jsonPath: try r.decode("json_path"),
            mapping: (try? JSONDecoder().decode(Mapping.self, from: Data((r["mapping"] ?? "{}").utf8))) ?? Mapping(),
            dateFormat: try r.decode("date_format"), timeZone: try r.decode("time_zone"),
            everyHours: try r.decode("every_hours", as: Int?.self),
            dailyAt: r["daily_at"], lookbackDays: try r.decode("lookback_days"), timeoutSeconds: try r.decode("timeout_seconds"),
            status: try r.decode("status"), pausedReason: r["paused_reason"], consecutiveFailures: try r.decode("consecutive_failures"),
            maxFailures: try r.decode("max_failures"), nextRunAt: try r.decode("next_run_at", as: Date?.self),
            lastRunAt: try r.decode("last_run_at", as: Date?.self), createdBy: try r.decode("created_by"))
    }

    /// The pause rule's view of the feed.
    public var health: SpendFeedHealth {
        SpendFeedHealth(status: status, consecutiveFailures: consecutiveFailures, maxFailures: maxFailures, pausedReason: pausedReason)
    }

    public var schedule: SpendFeedSchedule { SpendFeedSchedule(everyHours: everyHours, dailyAt: dailyAt, zone: timeZone) }
}
