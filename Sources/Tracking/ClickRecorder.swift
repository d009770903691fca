import Addresses
import Catalog
import Crypto
import Foundation
import Synchronization
import WaymarkCore
import Web

/// What a visitor's request brings to a click.
public struct Visit: Sendable {
    public var parameters: [(String, String)]
    public var ip: String
    public var userAgent: String
    public var referrer: String
    public var country: String
    public var acceptLanguage: String
    public var at: Date
    /// nginx's request id: a click nginx sends again to another responder (its first responder
    /// died) gets the same click id from it, so it is stored once.
    public var requestID: String?

    public init(
        parameters: [(String, String)], ip: String, userAgent: String, referrer: String, country: String, acceptLanguage: String = "",
        at: Date = Date(), requestID: String? = nil
    ) {
        self.parameters = parameters
        self.ip = ip
        self.userAgent = userAgent
        self.referrer = referrer
        self.country = country
        self.acceptLanguage = acceptLanguage
        self.at = at
        self.requestID = requestID
    }
}

/// Builds the click of a visit on a campaign: id, parameters into their slots, the platform
/// click id, cost by the cost model, bot and unique flags, device/OS/browser, the route
/// through the campaign's flow, and the destination URL with its tokens filled in.
public final class ClickRecorder: Sendable {
    public let botAddresses: IPRanges
    /// Hashes of (campaign, IP, user agent), for the 24-hour unique flag: bounded in memory
    /// and time (see UniqueVisitors).
    public let visitors: UniqueVisitors
    /// Keys a request id into a click id's random part (every responder of an installation
    /// shares the secret key, so each makes the same id for the same request). Keyed once:
    /// each click copies it (copy-on-write) instead of setting up the key again.
    private let requestMAC: HMAC<SHA256>?
    /// Device, OS and browser by user agent (they repeat heavily), bounded.
    private let agents = UserAgentCache()

    /// Visitors the unique flag remembers now.
    public var rememberedVisitors: Int { visitors.count }

    public init(botAddresses: IPRanges, uniqueCapacity: Int = 1_000_000, idKey: SymmetricKey? = nil) {
        self.botAddresses = botAddresses
        visitors = UniqueVisitors(capacity: uniqueCapacity)
        requestMAC = idKey.map {
            HMAC<SHA256>(key: HKDF<SHA256>.deriveKey(inputKeyMaterial: $0, info: Data("waymark click id".utf8), outputByteCount: 32))
        }
    }

    /// The 12 bytes of a click id that a request id fixes: the first 12 of HMAC-SHA256 under
    /// the derived key, so the id cannot be read off a log that holds the request id.
    func entropy(forRequest requestID: String?) -> [UInt8]? {
        guard var mac = requestMAC, let requestID, (16...64).contains(requestID.utf8.count) else { return nil }
        mac.update(data: Array(requestID.utf8))
        return Array(mac.finalize().prefix(12))
    }

    /// The click. Its destination is empty when the campaign's flow has nowhere to send it (no
    /// path with an available offer, or the flow is gone) and the campaign has no fallback URL:
    /// the caller answers 404 and stores nothing.
    public func click(for campaign: CachedCampaign, visit: Visit, caps: OfferCaps = OfferCaps()) -> Click {
        var values: [String: String] = [:]
        for (name, value) in visit.parameters where values[name] == nil { values[name] = value }
        var slots: [Int: String] = [:]
        for p in campaign.parameters {
            if let v = values[p.name], !v.isEmpty { slots[p.slot] = v }
        }
        let externalID = campaign.clickIDParam.flatMap { values[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        let extra = values.filter { !campaign.knownParameters.contains($0.key) }
        let agent = agents.reading(visit.userAgent)
        let id = ClickID.make(at: visit.at, entropy: entropy(forRequest: visit.requestID))
        let country = visit.country == "--" ? "" : visit.country
        var click = Click(
            id: id, clickedAt: visit.at, campaignID: campaign.id, trafficSourceID: campaign.trafficSourceID,
            workspaceID: campaign.workspaceID, ip: visit.ip, userAgent: visit.userAgent, referrer: visit.referrer, externalID: externalID,
            cost: cost(campaign, values), isBot: agent.isBot || botAddresses.contains(visit.ip),
            isUnique: firstVisit(campaign.id, visit), country: country, device: agent.device, os: agent.os, browser: agent.browser,
            destination: "", slots: slots, extra: extra)
        guard campaign.flowID != nil else {
            click.destination = ClickRecorder.fill(campaign.destination, campaign, click: click, values: values)
            return click
        }
        return route(click, through: campaign, visit: visit, agent: agent, values: values, caps: caps)
    }

    /// A flow campaign's click: its path, lander or offer, and their URL filled; the fallback
    /// URL (the click kept, with its flow and no path) when no path can take it.
    private func route(
        _ click: Click, through campaign: CachedCampaign, visit: Visit, agent: UserAgent, values: [String: String], caps: OfferCaps
    ) -> Click {
        var click = click
        click.flowID = campaign.flowID
        let flowVisit = FlowVisit(
            country: visit.country, userAgent: agent, isBot: click.isBot, acceptLanguage: visit.acceptLanguage, ip: visit.ip,
            referrer: visit.referrer, parameters: visit.parameters, at: visit.at, timeZone: campaign.timeZone)
        var generator = SystemRandomNumberGenerator()
        let decision = campaign.flow?.match(flowVisit, isCapped: { caps.isCapped($0, at: visit.at) }, using: &generator) ?? .fallback
        guard let route = decision.route else {
            click.destination = campaign.fallbackURL ?? ""
            return click
        }
        click.flowPath = route.pathIndex
        click.landerID = route.landerID
        click.offerID = route.offerID
        click.destination = ClickRecorder.fill(route.template, campaign, click: click, values: values)
        return click
    }

    /// Cost of one click: CPC its amount, auto the `cost` parameter.
    public func cost(_ campaign: CachedCampaign, _ values: [String: String]) -> String {
        switch campaign.costModel {
        case .cpc: return campaign.clickCost
        case .auto:
            guard let text = values["cost"]?.trimmingSpaces, Decimals.isPlain(text) else { return "0" }
            return text
        // CPM costs come with impressions (reports), CPA costs with approved conversions.
        case .cpm, .cpa, .none: return "0"
        }
    }

    private func firstVisit(_ campaignID: Int64, _ visit: Visit) -> Bool {
        var hasher = Hasher()
        hasher.combine(campaignID)
        hasher.combine(visit.ip)
        hasher.combine(visit.userAgent)
        return visitors.isFirst(hasher.finalize(), at: visit.at.timeIntervalSince1970)
    }

    /// A URL template filled for a click (URL-encoded values, empty when unknown): section 3's tokens, and for a click through a flow
    /// `{offer_id}` and `{lander_id}` too (elsewhere those names are parameters, as before).
    public static func fill(_ template: TokenTemplate, _ campaign: CachedCampaign, click: Click, values: [String: String]) -> String {
        template.render { name in
            switch name {
            case "offer_id" where click.flowID != nil: click.offerID.map { String($0) } ?? ""
            case "lander_id" where click.flowID != nil: click.landerID.map { String($0) } ?? ""
            case "clickid": click.id
            case "campaign_id": String(campaign.id)
            case "campaign_key": campaign.key
            case "traffic_source_id": String(campaign.trafficSourceID)
            case "external_id": click.externalID ?? ""
            case "country": click.country
            default: values[name] ?? ""
            }
        }
    }
}
