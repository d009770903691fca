import Accounts
import Crypto
import Foundation
import HTTPClient
import Integrations
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting

/// Settings → Provider apps: an owner enters an app id and secret, sealed and never shown
/// again; the providers read them without a restart; the environment's values win.
@Suite(.needsStack, .serialized, .timeLimit(.minutes(2))) struct ProviderAppsIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    func signedIn(_ role: Role) throws -> TestBrowser { try TestBrowser.signedIn(role, prefix: "apps", database: database).browser }

    @Test func anOwnerSavesAnAppItsSecretSealedAndNeverShown() throws {
        defer { _ = try? database.query("DELETE FROM provider_apps WHERE provider = 'tiktok'") }
        let owner = try signedIn(.owner)
        let page = try owner.get("/settings/providers")
        #expect(page.status == 200)
        #expect(page.text.contains(TestEnvironment.baseURL + "/oauth/meta/callback"), "the redirect URI to register")
        // The tests' stack sets every provider's app in its environment: shown as winning.
        #expect(page.text.contains("Set in the environment (<code>WAYMARK_TIKTOK_APP_ID</code>"))

        let missing = try owner.post("/settings/providers/tiktok", [("app_id", "7123"), ("secret", "")])
        #expect(missing.status == 422)
        #expect(missing.text.contains("enter the app&#39;s secret") || missing.text.contains("enter the app's secret"))
        let bad = try owner.post("/settings/providers/tiktok", [("app_id", "has space"), ("secret", "s")])
        #expect(bad.status == 422)
        let secret = "tiktok-secret-\(uniqueSuffix())"
        #expect(try owner.post("/settings/providers/tiktok", [("app_id", "7123456"), ("secret", secret)]).status == 303)
        let row = try #require(try database.query("SELECT app_id, secret_sealed FROM provider_apps WHERE provider = 'tiktok'").first)
        #expect(row["app_id"] == "7123456")
        #expect(row["secret_sealed"]?.contains(secret) == false)
        #expect(try database.query("SELECT count(*) AS n FROM audit_log WHERE new_values::text LIKE \("%" + secret + "%")")[0]["n"] == "0")
        let after = try owner.get("/settings/providers")
        #expect(after.text.contains("app id <code>7123456</code>, secret sealed"))
        #expect(after.text.contains(secret) == false)
        // An id change keeps the stored secret.
        let sealed = row["secret_sealed"]
        #expect(try owner.post("/settings/providers/tiktok", [("app_id", "7999"), ("secret", "")]).status == 303)
        #expect(try database.query("SELECT secret_sealed FROM provider_apps WHERE provider = 'tiktok'")[0]["secret_sealed"] == sealed)

        let admin = try signedIn(.admin)
        #expect(try admin.get("/settings/providers").status == 403)
        #expect(try admin.post("/settings/providers/tiktok", [("app_id", "1"), ("secret", "x")]).status == 403)
        #expect(try owner.post("/settings/providers/tiktok/delete", []).status == 303)
        #expect(try database.query("SELECT count(*) AS n FROM provider_apps WHERE provider = 'tiktok'")[0]["n"] == "0")
    }

    @Test func savedAppsReachTheProvidersAndTheEnvironmentWins() throws {
        defer { _ = try? database.query("DELETE FROM provider_apps WHERE provider = 'meta'") }
        let secrets = IntegrationSecrets(key: SymmetricKey(size: .bits256))
        let store = ProviderAppStore(database: database, secrets: secrets)
        let email = "apps-store-\(uniqueSuffix())@example.test"
        let id = try UserStore(database: database).create(email: email, password: "correct-horse-42", role: .owner)
        let owner = Actor(userID: id, email: email, role: .owner, workspaceIDs: [], channel: .session)
        let none = ProviderCredentials(
            googleClientID: nil, googleClientSecret: nil, googleDeveloperToken: nil, metaAppID: nil, metaAppSecret: nil, tiktokAppID: nil,
            tiktokAppSecret: nil)
        let apps = ProviderApps(environment: none, store: store)
        #expect(apps.current().metaAppID == nil)
        try store.save("meta", appID: "555", secret: "from-settings", developerToken: nil, by: owner)
        apps.invalidate()
        #expect(apps.current().metaAppID == "555")
        #expect(apps.current().metaAppSecret == "from-settings")
        let providers = Providers(
            apps: apps, http: ProviderHTTP(origins: ProviderOrigins(""), timeout: 5, outbound: .init(allow: "", extraDeny: "")))
        #expect(providers["meta"]?.isConfigured == true, "a saved app makes the provider connectable")
        #expect(providers["tiktok"]?.isConfigured == false)

        var environment = none
        environment.metaAppID = "from-env"
        let mixed = ProviderApps(environment: environment, store: store)
        #expect(mixed.current().metaAppID == "from-env", "the environment wins, field by field")
        #expect(mixed.current().metaAppSecret == "from-settings")
    }
}
