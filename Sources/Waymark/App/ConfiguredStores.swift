import Catalog
import FastCGI
import Integrations
import Postgres
import WaymarkCore

/// What the configuration decides for the capability modules, which know no `Configuration`.
extension IntegrationStore {
    /// The store as the responder and the worker use it: the installation's key, the
    /// providers with the environment's credentials (over the Settings page's) and origin map.
    public init(configuration: Configuration, database: PostgresPool) throws {
        let http = ProviderHTTP(
            origins: configuration.providerOrigins, timeout: configuration.outboundTimeoutSeconds,
            outbound: configuration.outbound)
        let secrets = try IntegrationSecrets(secretKey: configuration.secretKey, varDirectory: configuration.varDirectory)
        let apps = ProviderApps(
            environment: configuration.providerCredentials, store: ProviderAppStore(database: database, secrets: secrets))
        self.init(database: database, secrets: secrets, providers: Providers(apps: apps, http: http))
    }
}

extension TrackingLinks {
    public init(configuration: Configuration) {
        self.init(httpsOrigin: configuration.publicURL, httpOrigin: configuration.publicHTTPURL)
    }
}
