import Foundation
import Integrations
import WaymarkCore
import Web

/// Settings → Provider apps (owners): each OAuth provider's app id and secret, entered once and
/// sealed (never shown again), with the redirect URI to register at the provider. A value set
/// in the environment wins and is shown as such.
struct ProviderAppRoutes {
    let shell: AdminShell
    let integrations: IntegrationStore
    let publicURL: String
    var store: ProviderAppStore { ProviderAppStore(database: integrations.database, secrets: integrations.secrets) }
    var apps: ProviderApps { integrations.providers.apps }
    var providers: Providers { integrations.providers }

    func register(on router: Router) {
        router.get("/settings/providers", shell.page(page))
        router.post("/settings/providers/{provider}", shell.page(save))
        router.post("/settings/providers/{provider}/delete", shell.page(delete))
    }

    /// The environment variables of each provider's id, secret and (Google) developer token.
    static let variables: [String: (id: String, secret: String, token: String?)] = [
        "google_ads": ("WAYMARK_GOOGLE_CLIENT_ID", "WAYMARK_GOOGLE_CLIENT_SECRET", "WAYMARK_GOOGLE_ADS_DEVELOPER_TOKEN"),
        "meta": ("WAYMARK_META_APP_ID", "WAYMARK_META_APP_SECRET", nil),
        "tiktok": ("WAYMARK_TIKTOK_APP_ID", "WAYMARK_TIKTOK_APP_SECRET", nil),
    ]

    private func page(_ request: Request, _ actor: Actor) throws -> Response {
        try render(request, actor, errors: [:], failed: nil)
    }

    private func render(_ request: Request, _ actor: Actor, errors: [String: String], failed: String?, status: Int = 200) throws
        -> Response
    {
        try actor.requireOwner()
        let saved = try store.summaries()
        let env = apps.environment
        let fromEnvironment: [String: (id: Bool, secret: Bool, token: Bool)] = [
            "google_ads": (env.googleClientID != nil, env.googleClientSecret != nil, env.googleDeveloperToken != nil),
            "meta": (env.metaAppID != nil, env.metaAppSecret != nil, false),
            "tiktok": (env.tiktokAppID != nil, env.tiktokAppSecret != nil, false),
        ]
        let cards: [[String: Any]] = ProviderAppStore.providers.map { key in
            let names = ProviderAppRoutes.variables[key]!
            let environment = fromEnvironment[key]!
            var card: [String: Any] = [
                "key": key, "name": providers[key]?.name ?? key, "redirect_uri": "\(publicURL)/oauth/\(key)/callback",
                "id_variable": names.id, "secret_variable": names.secret, "configured": providers[key]?.isConfigured ?? false,
                "id_from_environment": environment.id, "secret_from_environment": environment.secret,
                "all_from_environment": environment.id && environment.secret,
            ]
            if let token = names.token {
                card["token_variable"] = token
                card["token_from_environment"] = environment.token
            }
            if let app = saved[key] {
                card["saved"] =
                    [
                        "app_id": app.appID, "updated": RFC3339.string(from: app.updatedAt), "by": app.updatedBy,
                        "has_token": app.hasDeveloperToken,
                    ] as [String: Any]
            }
            if failed == key { card["errors"] = errors }
            return card
        }
        return try shell.render(
            request, actor: actor, template: "settings/providers", title: "Provider apps", context: ["providers": cards],
            status: status, section: "provider_apps")
    }

    private func save(_ request: Request, _ actor: Actor) throws -> Response {
        let provider = request.parameters["provider"] ?? ""
        let form = FormState(fields: try request.form())
        do {
            try store.save(
                provider, appID: form.value("app_id"), secret: form.values["secret"], developerToken: form.values["developer_token"],
                by: actor)
        } catch let error as HTTPError where error.status == 422 {
            return try render(request, actor, errors: error.fields, failed: provider, status: 422)
        }
        apps.invalidate()
        let name = providers[provider]?.name ?? provider
        return AdminShell.redirect(to: "/settings/providers", flash: "\(name) app saved; its secret is sealed and not shown again.")
    }

    private func delete(_ request: Request, _ actor: Actor) throws -> Response {
        let provider = request.parameters["provider"] ?? ""
        try store.delete(provider, by: actor)
        apps.invalidate()
        return AdminShell.redirect(to: "/settings/providers", flash: "The saved \(providers[provider]?.name ?? provider) app is removed.")
    }
}
