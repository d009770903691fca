import Catalog
import Deliveries
import Foundation
import Postgres

/// The writes of IntegrationActions: each on the caller's transaction, so a change and its
/// audit entry commit together.
extension IntegrationStore {
    // MARK: OAuth state

    /// A new `state` for the provider's consent page, bound to the caller (states older than ten minutes go).
    public func saveOAuthState(_ state: String, binding: String, integrationID: Int64, codeVerifier: String) throws {
        try database.query("DELETE FROM oauth_states WHERE created_at < now() - interval '10 minutes'")
        try database.query(
            """
            INSERT INTO oauth_states (state, session_hash, integration_id, code_verifier)
            VALUES (\(state), \(binding), \(integrationID), \(codeVerifier))
            """)
    }

    /// Takes a state (single use) younger than ten minutes.
    public func takeOAuthState(_ state: String) throws -> (binding: String?, integrationID: Int64, codeVerifier: String)? {
        guard
            let row = try database.query(
                """
                DELETE FROM oauth_states WHERE state = \(state) AND created_at > now() - interval '10 minutes'
                RETURNING session_hash, integration_id, code_verifier
                """
            ).first
        else { return nil }
        return (row["session_hash"], try row.decode("integration_id"), row["code_verifier"] ?? "")
    }

    // MARK: Connection

    /// Connected by this user now; the failures of before are forgotten.
    public func markConnected(_ id: Int64, by userID: Int64, on c: PostgresConnection) throws {
        try c.query(
            """
            UPDATE integrations SET connected_by = \(userID), connected_at = now(), last_error = NULL, consecutive_failures = 0
            WHERE id = \(id)
            """)
    }

    /// An authorization's accounts, and `markConnected`.
    public func storeAccounts(_ id: Int64, _ accounts: [ProviderAccount], by userID: Int64, on c: PostgresConnection) throws {
        let json = String(decoding: try JSONEncoder().encode(accounts), as: UTF8.self)
        try c.query("UPDATE integrations SET accounts = \(json)::jsonb WHERE id = \(id)")
        try markConnected(id, by: userID, on: c)
    }

    /// Sets a status the machine chose, the next sync due now.
    public func setStatus(_ id: Int64, _ status: IntegrationStatus, on c: PostgresConnection) throws {
        try c.query("UPDATE integrations SET status = \(status.rawValue), next_sync_at = now() WHERE id = \(id)")
    }

    public func selectAccount(_ id: Int64, _ account: ProviderAccount, on c: PostgresConnection) throws {
        try c.query(
            """
            UPDATE integrations SET account_id = \(account.id), account_name = \(account.name), account_currency = \(account.currency),
              account_time_zone = \(account.timeZone), next_sync_at = now() WHERE id = \(id)
            """)
    }

    // MARK: Syncs and pushes

    /// Sync Now (or a full sync): due now, and the worker woken.
    public func requestSync(_ id: Int64, full: Bool, on c: PostgresConnection) throws {
        try c.query("UPDATE integrations SET next_sync_at = now(), full_sync_requested = full_sync_requested OR \(full) WHERE id = \(id)")
        try c.query("SELECT pg_notify('waymark_integrations', \(String(id)))")
    }

    /// After a resume: the next sync due now, and the pushes held while paused sent now.
    public func resumeWork(_ id: Int64, on c: PostgresConnection) throws {
        try c.query("UPDATE integrations SET next_sync_at = now() WHERE id = \(id)")
        try OutboxStore().sendPendingPushesNow(integrationID: id, on: c)
    }

    // MARK: Settings

    public func saveSettings(_ id: Int64, _ settings: [String: String], on c: PostgresConnection) throws {
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        try c.query("UPDATE integrations SET settings = \(json)::jsonb WHERE id = \(id)")
    }

    /// How and how often an integration syncs, and which click parameter carries the platform's campaign id.
    public struct SyncSettings: Sendable, Equatable {
        public var direction: String
        public var intervalMinutes: Int
        public var lookbackDays: Int
        public var campaignParam: String

        public init(_ i: Integration) {
            direction = i.direction
            intervalMinutes = i.intervalMinutes
            lookbackDays = i.lookbackDays
            campaignParam = i.campaignParam
        }
    }

    public func saveSyncSettings(_ id: Int64, _ s: SyncSettings, on c: PostgresConnection) throws {
        try c.query(
            """
            UPDATE integrations SET sync_direction = \(s.direction), sync_interval_minutes = \(s.intervalMinutes),
              lookback_days = \(s.lookbackDays), campaign_param = \(s.campaignParam), updated_at = now() WHERE id = \(id)
            """)
    }
}
