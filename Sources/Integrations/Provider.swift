import Catalog
import Conversions
import Deliveries
import Foundation

/// Tokens an authorization produced.
public struct ProviderTokens: Sendable {
    public var accessToken: String
    public var refreshToken: String?
    public var expiresAt: Date?
}

/// An ad account the authorized user may pick.
public struct ProviderAccount: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var currency: String?
    public var timeZone: String?
}

/// One pulled row of metrics: a day at a level (campaign, ad group, ad, keyword).
public struct MetricRow: Sendable, Equatable {
    public var day: String
    public var level: String
    public var campaignID: String
    public var campaignName = ""
    public var adGroupID = ""
    public var adGroupName = ""
    public var adID = ""
    public var adName = ""
    public var keyword = ""
    public var impressions: Int64 = 0
    public var clicks: Int64 = 0
    /// Decimal text in the account currency.
    public var cost = "0"
}

/// What an integration knows when it calls its provider.
public struct IntegrationContext: Sendable {
    public var accessToken: String
    public var account: ProviderAccount?
    public var settings: [String: String]
    /// GA4: the Measurement Protocol API secret.
    public var apiSecret: String?
}

/// A conversion as a Conversion-API push needs it.
public struct PushConversion: Sendable {
    public var conversionID: Int64
    public var clickID: String
    public var externalID: String?
    public var clickedAt: Date
    public var convertedAt: Date
    public var event: String
    public var providerAction: String
    public var status: String
    public var payout: String
    public var currency: String
    public var txid: String?
    public var ip: String
    public var userAgent: String
    public var destination: String
    public var parameters: [String: String]
}

/// A push made ready to queue: no token inside (the sender adds it when it sends).
public struct PushRequest: Sendable {
    public var method = "POST"
    public var url: String
    public var body: String
}

/// One ad platform's API as Waymark uses it: authorization, accounts, metrics, pushes.
public protocol Provider: Sendable {
    var key: String { get }
    var name: String { get }
    var summary: String { get }
    /// False for GA4 (manual credentials).
    var usesOAuth: Bool { get }
    /// Whether the app credentials are set (in the environment or on Settings → Provider apps).
    var isConfigured: Bool { get }
    func authorizeURL(state: String, redirectURI: String, codeChallenge: String) -> String
    func exchange(code: String, redirectURI: String, codeVerifier: String) throws -> ProviderTokens
    /// A fresh access token before the old one expires; nil where the provider has none.
    func refresh(_ refreshToken: String) throws -> ProviderTokens?
    func accounts(_ context: IntegrationContext) throws -> [ProviderAccount]
    func pull(_ context: IntegrationContext, from: String, to: String) throws -> [MetricRow]
    /// A live call proving the connection works; answers what it saw.
    func test(_ context: IntegrationContext) throws -> String
    /// The push of one conversion, or a reason it is not sent (e.g. too old for the API).
    func push(_ conversion: PushConversion, _ context: IntegrationContext) -> Result<PushRequest, ProviderFailure>
    /// The URL and headers a queued push is sent with (the token added now).
    func authorize(_ url: String, _ context: IntegrationContext) -> (url: String, headers: [(String, String)])
    /// Whether a push's answer was a success, in the provider's own terms.
    func judgePush(status: Int, body: String) -> ProviderFailure?
    func revoke(_ context: IntegrationContext) throws
}

extension Provider {
    public var usesOAuth: Bool { true }
    public func refresh(_ refreshToken: String) throws -> ProviderTokens? { nil }
    public func revoke(_ context: IntegrationContext) throws {}
}

/// The four providers of docs/integrations.md, in card order.
public struct Providers: Sendable {
    public let all: [any Provider]
    /// OAuth redirects go through the same origin map as the calls.
    public let origins: ProviderOrigins

    /// The app credentials the providers call with (environment over the Settings page).
    public let apps: ProviderApps

    public init(credentials: ProviderCredentials, http: ProviderHTTP) {
        self.init(apps: ProviderApps(environment: credentials, store: nil), http: http)
    }

    public init(apps: ProviderApps, http: ProviderHTTP) {
        origins = http.origins
        self.apps = apps
        all = [
            GoogleAdsProvider(apps: apps, http: http), MetaProvider(apps: apps, http: http), TikTokProvider(apps: apps, http: http),
            GA4Provider(http: http),
        ]
    }

    public subscript(key: String) -> (any Provider)? { all.first { $0.key == key } }
}

/// Decimal text of micros (Google's cost_micros).
public func decimalFromMicros(_ micros: String?) -> String {
    guard let micros, let v = Decimal(string: micros) else { return "0" }
    return "\(v / 1_000_000)"
}
