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
    /// The flow its clicks go through (SPEC §9), compiled; nil for a campaign sending them to
    /// its destination URL. `flowID` is set even while the flow is not loaded (then no click
    /// is routed: see `ClickRecorder`).
    public let flowID: Int64?
    public let flow: CompiledFlow?
    /// The workspace's zone: weekday and hour rules are read in it (UTC for Public sources).
    public let timeZone: TimeZone
    /// Derived once: the parsed destination, and one click's cost as text (CPC).
    public let destination: TokenTemplate
    public let clickCost: String
    /// The parameter names that are not a click's `extra`: its slots and the click id's.
    public let knownParameters: Set<String>

    public init(
        id: Int64, key: String, active: Bool, destinationURL: String, fallbackURL: String?, costModel: Campaign.CostModel,
        costAmount: Decimal, trafficSourceID: Int64, workspaceID: Int64?, clickIDParam: String?, parameters: [TrafficSource.Parameter],
        flowID: Int64? = nil, flow: CompiledFlow? = nil, timeZone: TimeZone = .gmt
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
        self.flowID = flowID
        self.flow = flow
        self.timeZone = timeZone
        self.destination = TokenTemplate(destinationURL)
        self.clickCost = "\(costAmount)"
        self.knownParameters = Set(parameters.map(\.name) + (clickIDParam.map { [$0] } ?? []))
    }
}

extension CachedCampaign {
    /// The same campaign with its flow compiled (the cache builds flows after campaigns).
    func with(flow: CompiledFlow?) -> CachedCampaign {
        CachedCampaign(
            id: id, key: key, active: active, destinationURL: destinationURL, fallbackURL: fallbackURL, costModel: costModel,
            costAmount: costAmount, trafficSourceID: trafficSourceID, workspaceID: workspaceID, clickIDParam: clickIDParam,
            parameters: parameters, flowID: flowID, flow: flow, timeZone: timeZone)
    }
}

/// Campaigns by key (and id), with their flows compiled, loaded at start, reloaded on `NOTIFY
/// waymark_campaigns` (triggers on campaigns, traffic sources, flows, landers and offers) and
/// every `refreshInterval` as a safety net; offers' cap counts on `waymark_offer_caps`. A key
/// not in memory is looked up once in the database (a campaign made a moment ago).
public final class CampaignCache: Sendable {
    struct Snapshot {
        var byKey: [String: CachedCampaign] = [:]
        var byID: [Int64: CachedCampaign] = [:]
        var flows: [Int64: CompiledFlow] = [:]
        /// Keys the database lookup added, with when: a reload that read the campaigns before
        /// such a campaign existed must not drop it.
        var lookedUp: [String: Double] = [:]

        /// Holds the campaign with its flow as compiled in this snapshot; returns that.
        @discardableResult
        mutating func insert(_ campaign: CachedCampaign) -> CachedCampaign {
            let held = campaign.flowID.map { campaign.with(flow: flows[$0]) } ?? campaign
            byKey[held.key] = held
            byID[held.id] = held
            return held
        }
    }

    private let snapshot = ReadMostly(Snapshot())
    /// Keys looked up and not found, with when, so a flood of bad keys does not hit the database.
    private let misses = Mutex<[String: Double]>([:])
    private let conninfo: String
    private let logger: Logger
    /// Where a key not in memory is looked up (`campaign(key:)`).
    private let database: PostgresPool?
    public let refreshInterval: Double
    /// Offers at their daily cap today (the flows skip them).
    public let caps = OfferCaps()

    public init(conninfo: String, logger: Logger, database: PostgresPool? = nil, refreshInterval: Double = 60) {
        self.conninfo = conninfo
        self.logger = logger
        self.database = database
        self.refreshInterval = refreshInterval
    }

    public func reload(_ c: PostgresConnection) throws {
        let started = monotonicSeconds()
        let catalog = try FlowCatalog.load(on: c)
        var fresh = Snapshot(flows: catalog.flows)
        for campaign in try CachedCampaignStore.all(on: c) { fresh.insert(campaign) }
        snapshot.write { old in
            for (key, at) in old.lookedUp where at >= started && fresh.byKey[key] == nil {
                if let late = old.byKey[key] {
                    // Its flow may be newer than this reload's read of the flows too.
                    if let flow = late.flow, fresh.flows[flow.flow.id] == nil { fresh.flows[flow.flow.id] = flow }
                    fresh.insert(late)
                }
                fresh.lookedUp[key] = at
            }
            old = fresh
        }
        misses.withLock { $0.removeAll() }
        try caps.refresh(on: c)
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

    /// A campaign by id, from memory only (a lander's click-through finds its click's campaign).
    public func campaign(id: Int64) -> CachedCampaign? {
        snapshot.read { $0.byID[id] }
    }

    /// A compiled flow by id, from memory (a click keeps its flow when the campaign changes flow).
    public func flow(id: Int64) -> CompiledFlow? {
        snapshot.read { $0.flows[id] }
    }

    private func lookup(key: String, in database: PostgresPool?) -> CachedCampaign? {
        if let hit = snapshot.read({ $0.byKey[key] }) { return hit }
        let now = monotonicSeconds()
        if let missed = misses.withLock({ $0[key] }), now - missed < 5 { return nil }
        guard let database, let found = try? CachedCampaignStore.campaign(key: key, in: database) else {
            misses.withLock {
                if $0.count > 100_000 { $0.removeAll() }
                $0[key] = now
            }
            return nil
        }
        // A campaign made a moment ago may be on a flow made a moment ago, before the reload.
        var loaded: FlowCatalog?
        if let flowID = found.flowID, flow(id: flowID) == nil { loaded = try? database.withConnection { try FlowCatalog.load(on: $0) } }
        return snapshot.write {
            if let loaded { $0.flows.merge(loaded.flows) { _, new in new } }
            $0.lookedUp[key] = now
            return $0.insert(found)
        }
    }

    /// Keeps the cache fresh on its own thread: LISTEN, reload on every notification, and
    /// reconnect (reloading) after the database comes back.
    /// The first load happens here, before the caller starts answering (a responder restarted
    /// mid-traffic would otherwise answer lander click-throughs from an empty memory); with the
    /// database down it is left to the thread.
    public func startListening() throws {
        var first: PostgresConnection?
        if let c = try? PostgresConnection(conninfo: conninfo), (try? c.listen("waymark_campaigns")) != nil,
            (try? c.listen("waymark_offer_caps")) != nil, (try? reload(c)) != nil
        {
            first = c
        }
        try spawnThread(stackBytes: 512 << 10) { [self, first] in
            var connection = first
            var lastReload = first == nil ? 0.0 : monotonicSeconds()
            while true {
                do {
                    if connection == nil {
                        let c = try PostgresConnection(conninfo: conninfo)
                        try c.listen("waymark_campaigns")
                        try c.listen("waymark_offer_caps")
                        try reload(c)
                        lastReload = monotonicSeconds()
                        connection = c
                    }
                    var notes = try connection!.waitForNotifications(timeout: 1)
                    if !notes.isEmpty && notes.allSatisfy({ $0.channel == "waymark_offer_caps" }) {
                        // A burst of postbacks is one recount: let the notes of 0.2 s gather.
                        usleep(200_000)
                        notes += try connection!.waitForNotifications(timeout: 0)
                    }
                    if notes.contains(where: { $0.channel == "waymark_campaigns" }) || monotonicSeconds() - lastReload > refreshInterval {
                        try reload(connection!)
                        lastReload = monotonicSeconds()
                    } else if !notes.isEmpty {
                        try caps.refresh(on: connection!)
                    }
                } catch {
                    connection = nil
                    usleep(500_000)
                }
            }
        }
    }
}
