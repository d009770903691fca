import Catalog
import Foundation
import Postgres
import Web

/// One provider's integration on one traffic source (docs/integrations.md), as stored. Tokens stay sealed
/// here; only IntegrationStore.context opens them, for a call.
public struct Integration: Sendable {
    public var id: Int64
    public var sourceID: Int64
    public var workspaceID: Int64?
    public var provider: String
    public var status: IntegrationStatus
    public var accounts: [ProviderAccount]
    public var accountID: String?
    public var accountName: String?
    public var accountCurrency: String?
    public var settings: [String: String]
    public var direction: String
    public var intervalMinutes: Int
    public var lookbackDays: Int
    public var campaignParam: String
    public var lastSyncAt: Date?
    public var lastSuccessAt: Date?
    public var nextSyncAt: Date?
    public var consecutiveFailures: Int
    public var lastError: String?
    public var tokenExpiresAt: Date?
    public var hasAccessToken: Bool
    public var hasRefreshToken: Bool
    public var hasAPISecret: Bool
    public var connectedAt: Date?

    public static let directions = ["pull", "push", "bidirectional"]
    public var pulls: Bool { direction != "push" }
    public var pushes: Bool { direction != "pull" }
    public var account: ProviderAccount? {
        accountID.map { id in
            accounts.first { $0.id == id } ?? ProviderAccount(id: id, name: accountName ?? id, currency: accountCurrency, timeZone: nil)
        }
    }

    public static let columns: PostgresQuery = """
        id, traffic_source_id, workspace_id, provider, status, accounts::text AS accounts, account_id, account_name, account_currency,
        settings::text AS settings, sync_direction, sync_interval_minutes, lookback_days, campaign_param, last_sync_at, last_success_at,
        next_sync_at, consecutive_failures, last_error, token_expires_at, access_token IS NOT NULL AS has_access,
        refresh_token IS NOT NULL AS has_refresh, api_secret IS NOT NULL AS has_secret, connected_at
        """

    public static func decode(_ row: PostgresRow) throws -> Integration {
        Integration(
            id: try row.decode("id"), sourceID: try row.decode("traffic_source_id"),
            workspaceID: try row.decode("workspace_id", as: Int64?.self),
            provider: try row.decode("provider"), status: IntegrationStatus(rawValue: try row.decode("status")) ?? .error,
            accounts: (try? JSONDecoder().decode([ProviderAccount].self, from: Data((row["accounts"] ?? "[]").utf8))) ?? [],
            accountID: row["account_id"], accountName: row["account_name"], accountCurrency: row["account_currency"],
            settings: (try? JSONDecoder().decode([String: String].self, from: Data((row["settings"] ?? "{}").utf8))) ?? [:],
            direction: try row.decode("sync_direction"), intervalMinutes: try row.decode("sync_interval_minutes"),
            lookbackDays: try row.decode("lookback_days"), campaignParam: try row.decode("campaign_param"),
            lastSyncAt: try row.decode("last_sync_at", as: Date?.self), lastSuccessAt: try row.decode("last_success_at", as: Date?.self),
            nextSyncAt: try row.decode("next_sync_at", as: Date?.self), consecutiveFailures: try row.decode("consecutive_failures"),
            lastError: row["last_error"], tokenExpiresAt: try row.decode("token_expires_at", as: Date?.self),
            hasAccessToken: try row.decode("has_access"), hasRefreshToken: try row.decode("has_refresh"),
            hasAPISecret: try row.decode("has_secret"),
            connectedAt: try row.decode("connected_at", as: Date?.self))
    }
}
