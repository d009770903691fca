import Foundation
import Synchronization
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
    let botAddresses: IPRanges
    /// Hash of (campaign, IP, user agent) → when first seen, for the 24-hour unique flag.
    /// Per process: with several responder hosts a visitor may count once per host.
    private let seen = Mutex<[Int: Double]>([:])
    static let uniqueWindow: Double = 24 * 3600

    public init(botAddresses: IPRanges) {
        self.botAddresses = botAddresses
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

    /// Cost of one click: CPC its amount, CPM a thousandth of it, auto the `cost` parameter;
    /// CPA costs come with conversions, not clicks.
    func cost(_ campaign: CachedCampaign, _ values: [String: String]) -> String {
        switch campaign.costModel {
        case .cpc: return "\(campaign.costAmount)"
        case .cpm: return "\(campaign.costAmount / 1000)"
        case .auto:
            guard let text = values["cost"]?.trimmingCharacters(in: .whitespaces), Decimals.isPlain(text) else { return "0" }
            return text
        case .cpa, .none: return "0"
        }
    }

    private func firstVisit(_ campaignID: Int64, _ visit: Visit) -> Bool {
        var hasher = Hasher()
        hasher.combine(campaignID)
        hasher.combine(visit.ip)
        hasher.combine(visit.userAgent)
        let key = hasher.finalize()
        let now = visit.at.timeIntervalSince1970
        return seen.withLock { seen in
            if let first = seen[key], now - first < ClickRecorder.uniqueWindow { return false }
            if seen.count > 1_000_000 { seen = seen.filter { now - $0.value < ClickRecorder.uniqueWindow } }
            seen[key] = now
            return true
        }
    }

    /// The destination with `{token}`s replaced by URL-encoded values (empty when unknown).
    static func destination(_ campaign: CachedCampaign, click: Click, values: [String: String]) -> String {
        fill(campaign.destinationURL) { name in
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

    /// Replaces each `{name}` (letters, digits, `_`, `-`) with `URLEncoding.encode(value(name))`;
    /// `{{…}}` (a platform's macro syntax) is left as it is.
    public static func fill(_ template: String, _ value: (String) -> String) -> String {
        guard template.contains("{") else { return template }
        var out = ""
        out.reserveCapacity(template.utf8.count + 32)
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[rest.startIndex..<open]
            let after = rest.index(after: open)
            if after < rest.endIndex, rest[after] == "{", let end = rest[after...].range(of: "}}") {
                out += rest[open..<end.upperBound]
                rest = rest[end.upperBound...]
                continue
            }
            if let close = rest[after...].firstIndex(of: "}"), close > after,
                rest[after..<close].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
            {
                out += URLEncoding.encode(value(String(rest[after..<close])))
                rest = rest[rest.index(after: close)...]
            } else {
                out.append("{")
                rest = rest[after...]
            }
        }
        out += rest
        return out
    }
}
