import Foundation
import Postgres
import WaymarkCore
import Web

/// `provider_apps`: the OAuth apps an owner entered on the Settings page, secrets sealed.
/// Nothing here ever returns a secret to a page: `stored()` is for the providers' calls.
public struct ProviderAppStore: Sendable {
    public let database: PostgresPool
    public let secrets: IntegrationSecrets
    public static let providers = ["google_ads", "meta", "tiktok"]

    public init(database: PostgresPool, secrets: IntegrationSecrets) {
        self.database = database
        self.secrets = secrets
    }

    public struct App: Sendable {
        public var appID: String
        public var secret: String
        public var developerToken: String?
    }

    /// Every stored app, its secrets opened (an app whose seal does not open is left out).
    public func stored() throws -> [String: App] {
        var apps: [String: App] = [:]
        for r in try database.query("SELECT provider, app_id, secret_sealed, developer_token_sealed FROM provider_apps") {
            guard let provider = r["provider"], let appID = r["app_id"], let sealed = r["secret_sealed"],
                let secret = try? secrets.open(sealed)
            else { continue }
            apps[provider] = App(
                appID: appID, secret: secret, developerToken: r["developer_token_sealed"].flatMap { try? secrets.open($0) })
        }
        return apps
    }

    /// What the Settings page may show: app ids, when and by whom, whether a secret is stored.
    public func summaries() throws -> [String: (appID: String, updatedAt: Date, updatedBy: String, hasDeveloperToken: Bool)] {
        var out: [String: (appID: String, updatedAt: Date, updatedBy: String, hasDeveloperToken: Bool)] = [:]
        for r in try database.query(
            "SELECT provider, app_id, updated_at, updated_by, developer_token_sealed IS NOT NULL AS dev FROM provider_apps")
        {
            out[r["provider"] ?? ""] = (r["app_id"] ?? "", try r.decode("updated_at"), r["updated_by"] ?? "", try r.decode("dev"))
        }
        return out
    }

    /// Saves an app (owners only). A nil or empty `secret` keeps the stored one (a first save
    /// needs it); an empty `developerToken` keeps the stored one too. Audited without secrets.
    public func save(_ provider: String, appID: String, secret: String?, developerToken: String?, by actor: Actor) throws {
        try actor.requireOwner()
        guard ProviderAppStore.providers.contains(provider) else { throw HTTPError.notFound("no provider \(provider)") }
        let appID = appID.trimmingCharacters(in: .whitespaces)
        var errors: [String: String] = [:]
        if appID.isEmpty || appID.count > 200 || appID.contains(where: { $0.isWhitespace || $0.isNewline }) {
            errors["app_id"] = "enter the app's id (up to 200 characters, no spaces)"
        }
        for (field, value) in [("secret", secret), ("developer_token", developerToken)] {
            if let value, value.utf8.count > 1000 || value.contains(where: \.isNewline) {
                errors[field] = "at most 1 000 characters, one line"
            }
        }
        let newSecret = secret.flatMap { $0.isEmpty ? nil : $0 }
        let newToken = developerToken.flatMap { $0.isEmpty ? nil : $0 }
        try database.transaction { c in
            let exists = try c.query("SELECT 1 FROM provider_apps WHERE provider = \(provider) FOR UPDATE").first != nil
            if !exists && newSecret == nil { errors["secret"] = "enter the app's secret" }
            guard errors.isEmpty else { throw HTTPError.validation(errors) }
            let sealedSecret = try newSecret.map(secrets.seal)
            let sealedToken = try newToken.map(secrets.seal)
            try c.query(
                """
                INSERT INTO provider_apps (provider, app_id, secret_sealed, developer_token_sealed, updated_by)
                VALUES (\(provider), \(appID), \(sealedSecret ?? ""), \(sealedToken), \(actor.email))
                ON CONFLICT (provider) DO UPDATE SET app_id = excluded.app_id,
                    secret_sealed = coalesce(\(sealedSecret), provider_apps.secret_sealed),
                    developer_token_sealed = coalesce(\(sealedToken), provider_apps.developer_token_sealed),
                    updated_at = now(), updated_by = excluded.updated_by
                """)
            try AuditLog.record(
                c, actor: actor, action: exists ? "update" : "create", objectType: "provider_app", objectID: provider,
                new: ["app_id": appID, "secret_changed": newSecret != nil, "developer_token_changed": newToken != nil])
        }
    }

    public func delete(_ provider: String, by actor: Actor) throws {
        try actor.requireOwner()
        try database.transaction { c in
            try c.query("DELETE FROM provider_apps WHERE provider = \(provider)")
            try AuditLog.record(c, actor: actor, action: "delete", objectType: "provider_app", objectID: provider)
        }
    }
}
