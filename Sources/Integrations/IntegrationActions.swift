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
                try store.saveSettings(integration.id, settings, on: c)
                if !secret.isEmpty { try store.storeAPISecret(integration.id, secret, on: c) }
                try store.transition(integration, .authorized(manual: true), on: c)
                try store.markConnected(integration.id, by: actor.userID, on: c)
                try sources.reportConversions(sourceID: integration.sourceID, to: integration.id, on: c)
                try AuditLog.record(
                    c, actor: actor, action: "integration.connect", objectType: "integration", objectID: integration.id,
                    workspaceID: source.workspaceID, new: ["provider": providerKey, "measurement_id": measurementID])
            }
            return .connected(try store.get(integration.id)!)
        }
        guard provider.isConfigured else {
            let prefix = "WAYMARK_" + (providerKey == "google_ads" ? "GOOGLE" : providerKey.uppercased())
            throw HTTPError.conflict(
                "\(provider.name) has no app credentials: an owner enters them on Settings → Provider apps (or sets \(prefix)_*)")
        }
        let state = RandomToken.base64URL(bytes: 24)
        let verifier = RandomToken.base64URL(bytes: 32)
        let challenge = Base64URL.encode(Array(SHA256.hash(data: Data(verifier.utf8))))
        try store.saveOAuthState(state, binding: binding, integrationID: integration.id, codeVerifier: verifier)
        return .authorize(
            store.providers.origins.rewrite(
                provider.authorizeURL(state: state, redirectURI: redirectURI(providerKey), codeChallenge: challenge)))
    }

    /// `GET /oauth/{provider}/callback`: checks the state (single use, ten minutes, bound to the
    /// same session or token), exchanges the code, fetches the accounts: pending selection.
    public func callback(_ providerKey: String, query: [String: String], binding: String?, actor: Actor) throws -> Integration {
        let provider = try provider(providerKey)
        guard let state = query["state"], !state.isEmpty else { throw HTTPError.badRequest("state is missing", field: "state") }
        guard let taken = try store.takeOAuthState(state), taken.binding == binding else {
            throw HTTPError.forbidden(
                "this authorization was not started from your session, or it is more than ten minutes old: connect again")
        }
        guard let integration = try store.get(taken.integrationID), integration.provider == providerKey else {
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
            tokens = try provider.exchange(code: code, redirectURI: redirectURI(providerKey), codeVerifier: taken.codeVerifier)
            accounts = try provider.accounts(
                IntegrationContext(accessToken: tokens.accessToken, account: nil, settings: integration.settings))
        } catch let failure as ProviderFailure {
            throw HTTPError(502, code: "provider_error", message: "\(provider.name): \(failure.message)")
        }
        try database.transaction { c in
            try store.storeTokens(integration.id, tokens, on: c)
            try store.storeAccounts(integration.id, accounts, by: actor.userID, on: c)
            // A reconnect of the same account goes straight back to work.
            if let current = integration.accountID, accounts.contains(where: { $0.id == current }),
                let next = integration.status.after(.reauthorizedSameAccount)
            {
                try store.setStatus(integration.id, next, on: c)
            } else {
                try store.transition(integration, .authorized(manual: false), on: c)
            }
            try AuditLog.record(
                c, actor: actor, action: "integration.authorize", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID, new: ["provider": providerKey, "accounts": accounts.count])
        }
        return try store.get(integration.id)!
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
            try store.selectAccount(integration.id, account, on: c)
            try store.transition(integration, .accountSelected, on: c)
            try sources.reportConversions(sourceID: integration.sourceID, to: integration.id, on: c)
            try AuditLog.record(
                c, actor: actor, action: "integration.select_account", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID, new: ["account_id": account.id, "account_name": account.name])
        }
        return try store.get(integration.id)!
    }
}
