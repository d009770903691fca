import Catalog
import Conversions
import Deliveries
import Foundation
import Postgres
import WaymarkCore

/// Integrations in PostgreSQL: rows, sealed tokens, status changes, the sync history. The one
/// place tokens are opened (`context`), refreshed before they expire, and dropped.
public struct IntegrationStore: Sendable {
    public let database: PostgresPool
    public let secrets: IntegrationSecrets
    public let providers: Providers

    public init(database: PostgresPool, secrets: IntegrationSecrets, providers: Providers) {
        self.database = database
        self.secrets = secrets
        self.providers = providers
    }

    public func get(_ id: Int64) throws -> Integration? {
        try database.query("SELECT \(fragment: Integration.columns) FROM integrations WHERE id = \(id)").first.map(Integration.decode)
    }

    public func find(sourceID: Int64, provider: String) throws -> Integration? {
        try database.query(
            "SELECT \(fragment: Integration.columns) FROM integrations WHERE traffic_source_id = \(sourceID) AND provider = \(provider)"
        )
        .first.map(Integration.decode)
    }

    /// The source's row for a provider, made (not_connected) when missing.
    public func ensure(source: TrafficSource, provider: String) throws -> Integration {
        try database.query(
            """
            INSERT INTO integrations (traffic_source_id, workspace_id, provider) VALUES (\(source.id), \(source.workspaceID), \(provider))
            ON CONFLICT (traffic_source_id, provider) DO NOTHING
            """)
        guard let integration = try find(sourceID: source.id, provider: provider) else {
            throw IntegrationError("integration row vanished")
        }
        return integration
    }

    /// Integrations the actor may see, every source (the Status page).
    public func all(for actor: Actor) throws -> [(integration: Integration, sourceName: String)] {
        try database.query(
            """
            SELECT \(fragment: Integration.columns), (SELECT name FROM traffic_sources s WHERE s.id = i.traffic_source_id) AS source_name
            FROM integrations i WHERE status <> 'not_connected' AND \(fragment: actor.visibleWorkspaces("workspace_id"))
            ORDER BY CASE status WHEN 'error' THEN 0 WHEN 'pending_account_selection' THEN 1 WHEN 'paused' THEN 2 ELSE 3 END, id
            """
        ).map { (try Integration.decode($0), $0["source_name"] ?? "") }
    }

    /// What a provider call needs: the opened token (refreshed first when it expires within
    /// five minutes, or when `forceRefresh` after the provider refused it), the account and the
    /// settings. A lost authorization turns it to `error`.
    public func context(_ integration: Integration, forceRefresh: Bool = false) throws -> IntegrationContext {
        guard let provider = providers[integration.provider] else { throw IntegrationError("unknown provider \(integration.provider)") }
        let row = try database.query(
            "SELECT access_token, refresh_token, api_secret, token_expires_at FROM integrations WHERE id = \(integration.id)"
        ).first
        var access = try row?["access_token"].map(secrets.open) ?? ""
        let apiSecret = try row?["api_secret"].map(secrets.open)
        if let refresh = try row?["refresh_token"].map(secrets.open),
            forceRefresh || (integration.tokenExpiresAt ?? .distantFuture) < Date().addingTimeInterval(300)
        {
            do {
                if let tokens = try provider.refresh(refresh) {
                    try database.withConnection { try storeTokens(integration.id, tokens, on: $0) }
                    access = tokens.accessToken
                }
            } catch let failure as ProviderFailure where failure.kind == .authorization {
                try authorizationLost(integration.id, failure.message)
                throw failure
            }
        }
        if provider.usesOAuth && access.isEmpty { throw ProviderFailure(.authorization, "not authorized: connect first") }
        return IntegrationContext(accessToken: access, account: integration.account, settings: integration.settings, apiSecret: apiSecret)
    }

    public func storeTokens(_ id: Int64, _ tokens: ProviderTokens, on c: PostgresConnection) throws {
        let refresh = try tokens.refreshToken.map(secrets.seal)
        try c.query(
            """
            UPDATE integrations SET access_token = \(try secrets.seal(tokens.accessToken)),
              refresh_token = coalesce(\(refresh), refresh_token), token_expires_at = \(tokens.expiresAt), updated_at = now()
            WHERE id = \(id)
            """)
    }

    public func storeAPISecret(_ id: Int64, _ secret: String, on c: PostgresConnection) throws {
        try c.query("UPDATE integrations SET api_secret = \(try secrets.seal(secret)), updated_at = now() WHERE id = \(id)")
    }

    /// Moves the status by an event; false (nothing changed) when the event is not allowed now.
    @discardableResult
    public func transition(_ integration: Integration, _ event: IntegrationStatus.Event, on c: PostgresConnection) throws -> Bool {
        guard let next = integration.status.after(event) else { return false }
        try c.query("UPDATE integrations SET status = \(next.rawValue), updated_at = now() WHERE id = \(integration.id)")
        return true
    }

    /// `invalid_grant`, Meta 190, TikTok 401xx: "Reconnection required".
    public func authorizationLost(_ id: Int64, _ message: String) throws {
        try database.query(
            """
            UPDATE integrations SET status = 'error', last_error = \("Reconnection required: " + message), updated_at = now()
            WHERE id = \(id) AND status IN ('active', 'paused', 'pending_account_selection')
            """)
    }

    /// Disconnect: tokens and secrets gone, every sync stopped, the account forgotten.
    public func disconnect(_ id: Int64, on c: PostgresConnection) throws {
        try c.query(
            """
            UPDATE integrations SET status = 'not_connected', access_token = NULL, refresh_token = NULL, api_secret = NULL,
              token_expires_at = NULL, accounts = '[]', account_id = NULL, account_name = NULL, account_currency = NULL,
              account_time_zone = NULL, next_sync_at = NULL, full_sync_requested = false, updated_at = now()
            WHERE id = \(id)
            """)
        try c.query("DELETE FROM oauth_states WHERE integration_id = \(id)")
    }

    /// A conversion event and the provider's action it is pushed as (`{event, provider_action, enabled}`).
    public struct Mapping: Sendable, Encodable {
        public var event: String
        public var action: String
        public var enabled: Bool

        public init(event: String, action: String, enabled: Bool) {
            self.event = event
            self.action = action
            self.enabled = enabled
        }

        enum CodingKeys: String, CodingKey {
            case event, enabled
            case action = "provider_action"
        }
    }

    public func mappings(_ id: Int64) throws -> [Mapping] {
        try database.query(
            "SELECT event_key, provider_action, enabled FROM conversion_mappings WHERE integration_id = \(id) ORDER BY event_key"
        )
        .map { Mapping(event: try $0.decode("event_key"), action: try $0.decode("provider_action"), enabled: try $0.decode("enabled")) }
    }

    public func setMappings(_ id: Int64, _ mappings: [Mapping], on c: PostgresConnection) throws {
        try c.query("DELETE FROM conversion_mappings WHERE integration_id = \(id)")
        for m in mappings {
            try c.query(
                """
                INSERT INTO conversion_mappings (integration_id, event_key, provider_action, enabled) VALUES (\(id), \(m.event),
                  \(m.action), \(m.enabled))
                """)
        }
    }
}
