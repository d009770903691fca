import Catalog
import Foundation
import Logging
import Postgres
import Synchronization
import Threads
import WaymarkCore

/// What the redirect needs of a campaign, held in memory so a click costs no lookup query and
/// redirects keep working while PostgreSQL is away. A class: a lookup costs one retain.
public final class CachedCampaign: Sendable {
    public let id: Int64
    public let key: String
    public let active: Bool
    public let destinationURL: String
    public let fallbackURL: String?
    public let costModel: Campaign.CostModel
    public let costAmount: Decimal
    public let trafficSourceID: Int64
    public let workspaceID: Int64?
    public let clickIDParam: String?
    public let parameters: [TrafficSource.Parameter]
    /// Derived once: the parsed destination, and one click's cost as text (CPC).
    public let destination: TokenTemplate
    public let clickCost: String

    public init(
        id: Int64, key: String, active: Bool, destinationURL: String, fallbackURL: String?, costModel: Campaign.CostModel,
        costAmount: Decimal, trafficSourceID: Int64, workspaceID: Int64?, clickIDParam: String?, parameters: [TrafficSource.Parameter]
    ) {
        self.id = id
        self.key = key
        self.active = active
        self.destinationURL = destinationURL
        self.fallbackURL = fallbackURL
        self.costModel = costModel
        self.costAmount = costAmount
        self.trafficSourceID = trafficSourceID
        self.workspaceID = workspaceID
        self.clickIDParam = clickIDParam
        self.parameters = parameters
        self.destination = TokenTemplate(destinationURL)
        self.clickCost = "\(costAmount)"
    }
}

/// Campaigns by key, loaded at start, reloaded on `NOTIFY waymark_campaigns` (triggers on
/// campaigns and traffic_sources) and every `refreshInterval` as a safety net. A key not in
/// memory is looked up once in the database (a campaign made a moment ago).
public final class CampaignCache: Sendable {
    private let byKey = ReadMostly<[String: CachedCampaign]>([:])
    /// Keys looked up and not found, with when, so a flood of bad keys does not hit the database.
    private let misses = Mutex<[String: Double]>([:])
    private let conninfo: String
    private let logger: Logger
    /// Where a key not in memory is looked up (`campaign(key:)`).
    private let database: PostgresPool?
    public let refreshInterval: Double

    public init(conninfo: String, logger: Logger, database: PostgresPool? = nil, refreshInterval: Double = 60) {
        self.conninfo = conninfo
        self.logger = logger
        self.database = database
        self.refreshInterval = refreshInterval
    }

    public func reload(_ c: PostgresConnection) throws {
        var fresh: [String: CachedCampaign] = [:]
        for campaign in try CachedCampaignStore.all(on: c) {
            fresh[campaign.key] = campaign
        }
        byKey.write { $0 = fresh }
        misses.withLock { $0.removeAll() }
    }

    /// The campaign for a key: from memory, else from the database (remembering a miss for a
    /// few seconds). While the database is down only memory answers.
    public func campaign(key: String, database: PostgresPool) -> CachedCampaign? {
        lookup(key: key, in: database)
    }

    /// The same, looked up in the pool given at init (memory only without one).
    public func campaign(key: String) -> CachedCampaign? {
        lookup(key: key, in: database)
    }

    private func lookup(key: String, in database: PostgresPool?) -> CachedCampaign? {
        if let hit = byKey.read({ $0[key] }) { return hit }
        let now = monotonicSeconds()
        if let missed = misses.withLock({ $0[key] }), now - missed < 5 { return nil }
        guard let database, let campaign = try? CachedCampaignStore.campaign(key: key, in: database) else {
            misses.withLock {
                if $0.count > 100_000 { $0.removeAll() }
                $0[key] = now
            }
            return nil
        }
        byKey.write { $0[key] = campaign }
        return campaign
    }

    /// Keeps the cache fresh on its own thread: LISTEN, reload on every notification, and
    /// reconnect (reloading) after the database comes back.
    public func startListening() throws {
        try spawnThread(stackBytes: 512 << 10) { [self] in
            var connection: PostgresConnection?
            var lastReload = 0.0
            while true {
                do {
                    if connection == nil {
                        let c = try PostgresConnection(conninfo: conninfo)
                        try c.listen("waymark_campaigns")
                        try reload(c)
                        lastReload = monotonicSeconds()
                        connection = c
                    }
                    let notes = try connection!.waitForNotifications(timeout: 1)
                    if !notes.isEmpty || monotonicSeconds() - lastReload > refreshInterval {
                        try reload(connection!)
                        lastReload = monotonicSeconds()
                    }
                } catch {
                    connection = nil
                    usleep(500_000)
                }
            }
        }
    }
}
