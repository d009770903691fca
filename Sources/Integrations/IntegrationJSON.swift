import Catalog
import Foundation
import Web

/// The API's view of an integration (docs/integrations.md): never a token or secret.
public struct IntegrationJSON: Encodable, Sendable {
    public struct Account: Encodable, Sendable {
        public var id: String
        public var name: String
        @Nullable public var currency: String?

        public init(_ a: ProviderAccount) {
            id = a.id
            name = a.name
            currency = a.currency
        }
    }

    public struct Health: Encodable, Sendable {
        @Nullable public var lastSyncAt: Date?
        @Nullable public var lastSuccessAt: Date?
        public var consecutiveFailures: Int
        @Nullable public var lastError: String?
        public var reconnectionRequired: Bool
    }

    /// The sync settings and, beside them, the provider's own (`pixel_id`, `measurement_id`, …).
    public struct Settings: Encodable, Sendable {
        public var syncDirection: String
        public var syncIntervalMinutes: Int
        public var lookbackDays: Int
        public var campaignParam: String
        public var nextSyncAt: Date?
        /// Provider settings; the sync settings win a name they share.
        public var provider: [String: String]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(_ name: String) { stringValue = name }
            init?(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        /// One flat object; the names are snake_case already (the key strategy leaves them).
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Key.self)
            let own = ["sync_direction", "sync_interval_minutes", "lookback_days", "campaign_param", "next_sync_at"]
            for (name, value) in provider where !own.contains(name) { try c.encode(value, forKey: Key(name)) }
            try c.encode(syncDirection, forKey: Key("sync_direction"))
            try c.encode(syncIntervalMinutes, forKey: Key("sync_interval_minutes"))
            try c.encode(lookbackDays, forKey: Key("lookback_days"))
            try c.encode(campaignParam, forKey: Key("campaign_param"))
            try c.encode(nextSyncAt, forKey: Key("next_sync_at"))
        }
    }

    public var id: Int64
    public var trafficSourceId: Int64
    public var provider: String
    public var name: String
    public var description: String
    public var status: String
    public var oauth: Bool
    @Nullable public var account: Account?
    /// The accounts to choose from, while one is to be chosen.
    public var accounts: [Account]
    public var health: Health
    public var settings: Settings
    /// Only in the answer for one integration.
    public var mappings: [IntegrationStore.Mapping]?

    public init(_ i: Integration, _ provider: any Provider, mappings: [IntegrationStore.Mapping]? = nil) {
        id = i.id
        trafficSourceId = i.sourceID
        self.provider = i.provider
        name = provider.name
        description = provider.summary
        status = i.status.rawValue
        oauth = provider.usesOAuth
        account = i.account.map(Account.init)
        accounts = i.status == .pendingAccountSelection ? i.accounts.map(Account.init) : []
        health = Health(
            lastSyncAt: i.lastSyncAt, lastSuccessAt: i.lastSuccessAt, consecutiveFailures: i.consecutiveFailures, lastError: i.lastError,
            reconnectionRequired: i.status == .error)
        settings = Settings(
            syncDirection: i.direction, syncIntervalMinutes: i.intervalMinutes, lookbackDays: i.lookbackDays,
            campaignParam: i.campaignParam,
            nextSyncAt: i.nextSyncAt, provider: i.settings)
        self.mappings = mappings
    }
}

/// `POST …/connect` when the provider's consent page comes next.
public struct AuthorizeJSON: Encodable, Sendable {
    public var authorizeUrl: String

    public init(authorizeURL: String) { authorizeUrl = authorizeURL }
}

/// The answer of Test Connection.
public struct TestResultJSON: Encodable, Sendable {
    public var ok: Bool
    public var message: String

    public init(ok: Bool, message: String) {
        self.ok = ok
        self.message = message
    }
}

/// `PUT …/mappings`: the mappings as saved.
public struct MappingsJSON: Encodable, Sendable {
    public var mappings: [IntegrationStore.Mapping]

    public init(_ mappings: [IntegrationStore.Mapping]) { self.mappings = mappings }
}

/// `GET …/history`: the pulls and tests, and the pushes with the provider's answers.
public struct HistoryJSON: Encodable, Sendable {
    public var syncs: [IntegrationStore.SyncEntry]
    public var pushes: [IntegrationStore.PushEntry]

    public init(syncs: [IntegrationStore.SyncEntry], pushes: [IntegrationStore.PushEntry]) {
        self.syncs = syncs
        self.pushes = pushes
    }
}
