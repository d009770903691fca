import Accounts
import Catalog
import Crypto
import Deliveries
import Foundation
import Postgres
import WaymarkCore
import Web

/// Every action of docs/integrations.md on an integration, shared by the pages and the API: connect (OAuth
/// or GA4's credentials), the OAuth callback, account selection, test, sync now / full sync,
/// settings, mappings, pause, resume, disconnect. Each change is audited.
public struct IntegrationActions: Sendable {
    public let store: IntegrationStore
    public let sources: TrafficSourceStore
    public let database: PostgresPool
    public let publicURL: String

    public init(store: IntegrationStore, sources: TrafficSourceStore, database: PostgresPool, publicURL: String) {
        self.store = store
        self.sources = sources
        self.database = database
        self.publicURL = publicURL
    }

    public func provider(_ key: String) throws(HTTPError) -> any Provider {
        guard let p = store.providers[key] else { throw HTTPError.notFound("no provider \(key): google_ads, meta, tiktok, ga4") }
        return p
    }

    /// The source (visible to the actor) and its row for the provider.
    public func load(_ sourceID: Int64, _ providerKey: String, _ actor: Actor) throws -> (TrafficSource, any Provider, Integration) {
        let source = try sources.get(sourceID, for: actor)
        let provider = try provider(providerKey)
        return (source, provider, try store.ensure(source: source, provider: providerKey))
    }

    public func redirectURI(_ provider: String) -> String { "\(publicURL)/oauth/\(provider)/callback" }

    /// What the OAuth `state` is bound to: the caller's session cookie or API token, hashed.
    public static func binding(_ request: Request) -> String? {
        let credential = request.cookies[SessionStore.cookieName] ?? request.header("authorization").map { String($0.dropFirst(7)) }
        return credential.map { Hex.encode(Array(SHA256.hash(data: Data($0.utf8)))) }
    }

    public enum ConnectResult {
        case authorize(String)
        case connected(Integration)
    }

    public func connect(_ sourceID: Int64, _ providerKey: String, actor: Actor, binding: String, fields: [String: Any]) throws
        -> ConnectResult
    {
        let (source, provider, integration) = try load(sourceID, providerKey, actor)
        try actor.requireEditable(workspace: source.workspaceID)
        if !provider.usesOAuth {
            let measurementID = (fields["measurement_id"] as? String ?? "").trimmingCharacters(in: .whitespaces).uppercased()
            let secret = (fields["api_secret"] as? String ?? "").trimmingCharacters(in: .whitespaces)
            var errors: [String: String] = [:]
            if !GA4Provider.isMeasurementID(measurementID) { errors["measurement_id"] = "must look like G-XXXXXXXXXX" }
            if secret.isEmpty && !integration.hasAPISecret { errors["api_secret"] = "is required" }
            guard errors.isEmpty else { throw HTTPError.validation(errors) }
            try database.transaction { c in
                var settings = integration.settings
                settings["measurement_id"] = measurementID
                try saveSettings(integration.id, settings, on: c)
                if !secret.isEmpty { try store.storeAPISecret(integration.id, secret, on: c) }
                try store.transition(integration, .authorized(manual: true), on: c)
                try c.query(
                    "UPDATE integrations SET connected_by = \(actor.userID), connected_at = now(), last_error = NULL, consecutive_failures = 0 WHERE id = \(integration.id)"
                )
                try IntegrationActions.reportConversions(to: integration, on: c)
                try AuditLog.record(
                    c, actor: actor, action: "integration.connect", objectType: "integration", objectID: integration.id,
                    workspaceID: source.workspaceID, new: ["provider": providerKey, "measurement_id": measurementID])
            }
            return .connected(try store.get(integration.id)!)
        }
        guard provider.isConfigured else {
            throw HTTPError.conflict(
                "\(provider.name) has no app credentials: set the WAYMARK_\(providerKey == "google_ads" ? "GOOGLE" : providerKey.uppercased())_* variables (README, Integrations)"
            )
        }
        let state = RandomToken.base64URL(bytes: 24)
        let verifier = RandomToken.base64URL(bytes: 32)
        let challenge = Base64URL.encode(Array(SHA256.hash(data: Data(verifier.utf8))))
        try database.query("DELETE FROM oauth_states WHERE created_at < now() - interval '10 minutes'")
        try database.query(
            """
            INSERT INTO oauth_states (state, session_hash, integration_id, code_verifier) VALUES (\(state), \(binding), \(integration.id), \(verifier))
            """)
        return .authorize(
            store.providers.origins.rewrite(
                provider.authorizeURL(state: state, redirectURI: redirectURI(providerKey), codeChallenge: challenge)))
    }

    /// `GET /oauth/{provider}/callback`: checks the state (single use, ten minutes, bound to the
    /// same session or token), exchanges the code, fetches the accounts: pending selection.
    public func callback(_ providerKey: String, query: [String: String], binding: String?, actor: Actor) throws -> Integration {
        let provider = try provider(providerKey)
        guard let state = query["state"], !state.isEmpty else { throw HTTPError.badRequest("state is missing", field: "state") }
        guard
            let row = try database.query(
                """
                DELETE FROM oauth_states WHERE state = \(state) AND created_at > now() - interval '10 minutes' RETURNING session_hash, integration_id, code_verifier
                """
            ).first, row["session_hash"] == binding
        else {
            throw HTTPError.forbidden(
                "this authorization was not started from your session, or it is more than ten minutes old: connect again")
        }
        guard var integration = try store.get(try row.decode("integration_id")), integration.provider == providerKey else {
            throw HTTPError.notFound()
        }
        _ = try sources.get(integration.sourceID, for: actor)
        if let error = query["error"] {
            throw HTTPError(
                400, code: "authorization_denied",
                message: "\(provider.name) answered \(error): \(query["error_description"] ?? query["error_reason"] ?? "")")
        }
        guard let code = query["code"] ?? query["auth_code"], !code.isEmpty else {
            throw HTTPError.badRequest("code is missing", field: "code")
        }
        let tokens: ProviderTokens
        let accounts: [ProviderAccount]
        do {
            tokens = try provider.exchange(code: code, redirectURI: redirectURI(providerKey), codeVerifier: row["code_verifier"] ?? "")
            accounts = try provider.accounts(
                IntegrationContext(accessToken: tokens.accessToken, account: nil, settings: integration.settings))
        } catch let failure as ProviderFailure {
            throw HTTPError(502, code: "provider_error", message: "\(provider.name): \(failure.message)")
        }
        try database.transaction { c in
            try store.storeTokens(integration.id, tokens, on: c)
            let accountsJSON = String(decoding: try JSONEncoder().encode(accounts), as: UTF8.self)
            try c.query(
                """
                UPDATE integrations SET accounts = \(accountsJSON)::jsonb, connected_by = \(actor.userID), connected_at = now(),
                  last_error = NULL, consecutive_failures = 0 WHERE id = \(integration.id)
                """)
            // A reconnect of the same account goes straight back to work.
            if let current = integration.accountID, accounts.contains(where: { $0.id == current }),
                integration.status == .error || integration.status == .active || integration.status == .paused
            {
                let resumed = integration.status == .paused ? "paused" : "active"
                try c.query("UPDATE integrations SET status = \(resumed), next_sync_at = now() WHERE id = \(integration.id)")
            } else {
                try store.transition(integration, .authorized(manual: false), on: c)
            }
            try AuditLog.record(
                c, actor: actor, action: "integration.authorize", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID, new: ["provider": providerKey, "accounts": accounts.count])
        }
        integration = try store.get(integration.id)!
        return integration
    }

    public func selectAccount(_ integration: Integration, accountID: String, actor: Actor) throws -> Integration {
        try requireEditable(integration, actor)
        guard let account = integration.accounts.first(where: { $0.id == accountID }) else {
            throw HTTPError.validation(["account_id": "is not one of the accounts this authorization reaches"])
        }
        guard integration.status.after(.accountSelected) != nil else {
            throw HTTPError.conflict("no account to select while \(integration.status.rawValue)")
        }
        try database.transaction { c in
            try c.query(
                """
                UPDATE integrations SET account_id = \(account.id), account_name = \(account.name), account_currency = \(account.currency),
                  account_time_zone = \(account.timeZone), next_sync_at = now() WHERE id = \(integration.id)
                """)
            try store.transition(integration, .accountSelected, on: c)
            try IntegrationActions.reportConversions(to: integration, on: c)
            try AuditLog.record(
                c, actor: actor, action: "integration.select_account", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID, new: ["account_id": account.id, "account_name": account.name])
        }
        return try store.get(integration.id)!
    }

    /// A source with no Conversion-API integration yet reports to the one just connected.
    public static func reportConversions(to integration: Integration, on c: PostgresConnection) throws {
        try c.query(
            "UPDATE traffic_sources SET capi_integration_id = \(integration.id) WHERE id = \(integration.sourceID) AND capi_integration_id IS NULL"
        )
    }

    public func requireEditable(_ integration: Integration, _ actor: Actor) throws {
        _ = try sources.get(integration.sourceID, for: actor)
        try actor.requireEditable(workspace: integration.workspaceID)
    }

    /// Test Connection: a live call; the result is recorded in the history and returned.
    public func test(_ integration: Integration, actor: Actor) throws -> (ok: Bool, message: String) {
        try requireEditable(integration, actor)
        guard integration.status != .notConnected, let provider = store.providers[integration.provider] else {
            throw HTTPError.conflict("connect first")
        }
        let sync = try store.startSync(integration.id, kind: "test")
        do {
            let message = try provider.test(try store.context(integration))
            try store.finishSync(sync, status: "success")
            return (true, message)
        } catch let failure as ProviderFailure {
            if failure.kind == .authorization { try store.authorizationLost(integration.id, failure.message) }
            try store.finishSync(sync, status: "failed", error: failure.message)
            return (false, failure.message)
        }
    }

    /// Sync Now / Force Full Sync: the worker picks it up within seconds.
    public func requestSync(_ integration: Integration, full: Bool, actor: Actor) throws {
        try requireEditable(integration, actor)
        guard integration.status == .active else {
            throw HTTPError.conflict("syncs run only while active (now \(integration.status.rawValue))")
        }
        guard integration.pulls, store.providers[integration.provider]?.usesOAuth == true else {
            throw HTTPError.conflict("this integration does not pull")
        }
        try database.transaction { c in
            try c.query(
                "UPDATE integrations SET next_sync_at = now(), full_sync_requested = full_sync_requested OR \(full) WHERE id = \(integration.id)"
            )
            try c.query("SELECT pg_notify('waymark_integrations', \(String(integration.id)))")
            try AuditLog.record(
                c, actor: actor, action: full ? "integration.full_sync" : "integration.sync", objectType: "integration",
                objectID: integration.id, workspaceID: integration.workspaceID)
        }
    }

    public func pause(_ integration: Integration, actor: Actor) throws { try move(integration, .pause, "integration.pause", actor) }
    public func resume(_ integration: Integration, actor: Actor) throws { try move(integration, .resume, "integration.resume", actor) }

    public func move(_ integration: Integration, _ event: IntegrationStatus.Event, _ action: String, _ actor: Actor) throws {
        try requireEditable(integration, actor)
        try database.transaction { c in
            guard try store.transition(integration, event, on: c) else {
                throw HTTPError.conflict("not possible while \(integration.status.rawValue)")
            }
            if event == .resume {
                try c.query("UPDATE integrations SET next_sync_at = now() WHERE id = \(integration.id)")
                // The pushes held while paused go now.
                try c.query(
                    "UPDATE deliveries SET next_attempt_at = now() WHERE kind = 'capi' AND target_id = \(integration.id) AND state = 'pending'"
                )
                try c.query("SELECT pg_notify('waymark_deliveries', '')")
            }
            try AuditLog.record(
                c, actor: actor, action: action, objectType: "integration", objectID: integration.id, workspaceID: integration.workspaceID)
        }
    }

    /// Disconnect: revoke where the provider allows (best effort), then drop every token.
    public func disconnect(_ integration: Integration, actor: Actor) throws {
        try requireEditable(integration, actor)
        guard integration.status != .notConnected else { throw HTTPError.conflict("not connected") }
        if let provider = store.providers[integration.provider], let context = try? store.context(integration) {
            try? provider.revoke(context)
        }
        try database.transaction { c in
            try store.disconnect(integration.id, on: c)
            try AuditLog.record(
                c, actor: actor, action: "integration.disconnect", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID,
                old: ["status": integration.status.rawValue, "account_id": integration.accountID ?? NSNull()])
        }
    }

    /// Provider settings a form or the API may change, with what each must look like.
    public static let settingKeys: [String: @Sendable (String) -> String?] = [
        "pixel_id": { $0.isEmpty || (ASCII.isDigits($0) && $0.count <= 32) ? nil : "must be the pixel (dataset) id, digits 0-9 only" },
        "pixel_code": { $0.count <= 64 ? nil : "is too long" },
        "login_customer_id": {
            $0.isEmpty || (ASCII.isDigits($0.filter { $0 != "-" }) && $0.count <= 20) ? nil : "must be digits 0-9 (dashes allowed)"
        },
        "conversion_api": { ["", "click_conversions", "data_manager"].contains($0) ? nil : "must be click_conversions or data_manager" },
        "test_event_code": { $0.count <= 64 ? nil : "is too long" },
    ]

    public func updateSettings(_ integration: Integration, fields: [String: Any], actor: Actor) throws -> Integration {
        try requireEditable(integration, actor)
        var errors: [String: String] = [:]
        var settings = integration.settings
        for (key, check) in IntegrationActions.settingKeys {
            guard let value = fields[key] else { continue }
            let text = (jsonText(value) ?? "").trimmingCharacters(in: .whitespaces)
            if let problem = check(text) { errors[key] = problem } else { settings[key] = text.isEmpty ? nil : text }
        }
        var direction = integration.direction, interval = integration.intervalMinutes, lookback = integration.lookbackDays,
            param = integration.campaignParam
        if let v = fields["sync_direction"] {
            let text = jsonText(v) ?? ""
            if Integration.directions.contains(text) {
                direction = text
            } else {
                errors["sync_direction"] = "must be pull, push or bidirectional"
            }
        }
        if let v = fields["sync_interval_minutes"] {
            if let n = Int(jsonText(v) ?? ""), (5...1440).contains(n) {
                interval = n
            } else {
                errors["sync_interval_minutes"] = "must be 5 to 1440 minutes"
            }
        }
        if let v = fields["lookback_days"] {
            if let n = Int(jsonText(v) ?? ""), (0...30).contains(n) {
                lookback = n
            } else {
                errors["lookback_days"] = "must be 0 to 30 days"
            }
        }
        if let v = fields["campaign_param"] {
            let text = jsonText(v) ?? ""
            if Slug.isValid(text) {
                param = text
            } else {
                errors["campaign_param"] = "must be a parameter name (lower-case letters, digits, _)"
            }
        }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
        try database.transaction { c in
            try saveSettings(integration.id, settings, on: c)
            try c.query(
                """
                UPDATE integrations SET sync_direction = \(direction), sync_interval_minutes = \(interval), lookback_days = \(lookback),
                  campaign_param = \(param), updated_at = now() WHERE id = \(integration.id)
                """)
            try AuditLog.record(
                c, actor: actor, action: "integration.settings", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID,
                new: [
                    "sync_direction": direction, "sync_interval_minutes": interval,
                    "lookback_days": lookback, "campaign_param": param,
                ].merging(settings.mapValues { $0 as Any }) { a, _ in a })
        }
        return try store.get(integration.id)!
    }

    public func saveSettings(_ id: Int64, _ settings: [String: String], on c: PostgresConnection) throws {
        let json = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        try c.query("UPDATE integrations SET settings = \(json)::jsonb WHERE id = \(id)")
    }

    public func setMappings(_ integration: Integration, _ items: [[String: Any]], actor: Actor) throws -> [IntegrationStore.Mapping] {
        try requireEditable(integration, actor)
        var errors: [String: String] = [:]
        var mappings: [IntegrationStore.Mapping] = []
        for (i, item) in items.enumerated() {
            let event = (item["event"] as? String ?? "").trimmingCharacters(in: .whitespaces)
            let action = (jsonText(item["provider_action"]) ?? "").trimmingCharacters(in: .whitespaces)
            if !Slug.isValid(event) { errors["mappings[\(i)].event"] = "must be an event key" }
            if action.isEmpty || action.count > 100 { errors["mappings[\(i)].provider_action"] = "is required (at most 100 characters)" }
            if integration.provider == "google_ads" && !ASCII.isDigits(action) {
                errors["mappings[\(i)].provider_action"] = "must be the conversion action id (digits)"
            }
            if mappings.contains(where: { $0.event == event }) { errors["mappings[\(i)].event"] = "is mapped twice" }
            mappings.append(.init(event: event, action: action, enabled: item["enabled"] as? Bool ?? true))
        }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
        try database.transaction { c in
            try store.setMappings(integration.id, mappings, on: c)
            try AuditLog.record(
                c, actor: actor, action: "integration.mappings", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID,
                new: ["mappings": mappings.map { "\($0.event)→\($0.action)\($0.enabled ? "" : " (off)")" }])
        }
        return mappings
    }
}
