import Addresses
import Catalog
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
    public var at: Date

    public init(parameters: [(String, String)], ip: String, userAgent: String, referrer: String, country: String, at: Date = Date()) {
        self.parameters = parameters
        self.ip = ip
        self.userAgent = userAgent
        self.referrer = referrer
        self.country = country
        self.at = at
    }
}

/// Builds the click of a visit on a campaign: id, parameters into their slots, the platform
/// click id, cost by the cost model, bot and unique flags, device/OS/browser, and the
/// destination URL with its tokens filled in.
public final class ClickRecorder: Sendable {
    public let botAddresses: IPRanges
    /// Hashes of (campaign, IP, user agent), for the 24-hour unique flag: bounded in memory
    /// and time (see UniqueVisitors).
    public let visitors: UniqueVisitors

    /// Visitors the unique flag remembers now.
    public var rememberedVisitors: Int { visitors.count }

    public init(botAddresses: IPRanges, uniqueCapacity: Int = 1_000_000) {
        self.botAddresses = botAddresses
        visitors = UniqueVisitors(capacity: uniqueCapacity)
    }

    public func click(for campaign: CachedCampaign, visit: Visit) -> Click {
        var values: [String: String] = [:]
        for (name, value) in visit.parameters where values[name] == nil { values[name] = value }
        var slots: [Int: String] = [:]
        var known = Set<String>()
        for p in campaign.parameters {
            known.insert(p.name)
            if let v = values[p.name], !v.isEmpty { slots[p.slot] = v }
        }
        let externalID = campaign.clickIDParam.flatMap { values[$0] }.flatMap { $0.isEmpty ? nil : $0 }
        if let param = campaign.clickIDParam { known.insert(param) }
        let extra = values.filter { !known.contains($0.key) }
        let agent = UserAgent(visit.userAgent)
        let id = ClickID.make(at: visit.at)
        let country = visit.country == "--" ? "" : visit.country
        var click = Click(
            id: id, clickedAt: visit.at, campaignID: campaign.id, trafficSourceID: campaign.trafficSourceID,
            workspaceID: campaign.workspaceID, ip: visit.ip, userAgent: visit.userAgent, referrer: visit.referrer, externalID: externalID,
            cost: cost(campaign, values), isBot: agent.isBot || botAddresses.contains(visit.ip),
            isUnique: firstVisit(campaign.id, visit), country: country, device: agent.device, os: agent.os, browser: agent.browser,
            destination: "", slots: slots, extra: extra)
        click.destination = ClickRecorder.destination(campaign, click: click, values: values)
        return click
    }

    /// Cost of one click: CPC its amount, auto the `cost` parameter.
    public func cost(_ campaign: CachedCampaign, _ values: [String: String]) -> String {
        switch campaign.costModel {
        case .cpc: return campaign.clickCost
        case .auto:
            guard let text = values["cost"]?.trimmingCharacters(in: .whitespaces), Decimals.isPlain(text) else { return "0" }
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

    /// The destination with `{token}`s replaced by URL-encoded values (empty when unknown).
    public static func destination(_ campaign: CachedCampaign, click: Click, values: [String: String]) -> String {
        campaign.destination.render { name in
            switch name {
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

    /// Replaces each `{name}` with `URLEncoding.encode(value(name))` (see TokenTemplate).
    public static func fill(_ template: String, _ value: (String) -> String) -> String {
        TokenTemplate(template).render(value)
    }
}
