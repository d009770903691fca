import Foundation
import WaymarkCore
import Web

/// What a report asks (docs/reports.md): period in a time zone, grouping, filters, attribution and
/// the reporting currency.
public struct ReportRequest: Sendable {
    public enum Group: Sendable, Equatable {
        case day, hour, trafficSource, campaign, param(String), country, device, event, flow, path, lander, offer

        public var key: String {
            switch self {
            case .day: "day"
            case .hour: "hour"
            case .trafficSource: "traffic_source"
            case .campaign: "campaign"
            case .param(let name): "param:" + name
            case .country: "country"
            case .device: "device"
            case .event: "event"
            case .flow: "flow"
            case .path: "path"
            case .lander: "lander"
            case .offer: "offer"
            }
        }

        /// A click's flow, path, lander or offer.
        public var isFlow: Bool { [.flow, .path, .lander, .offer].contains(self) }

        public static func parse(_ text: String) -> Group? {
            switch text {
            case "day": .day
            case "hour": .hour
            case "traffic_source": .trafficSource
            case "campaign": .campaign
            case "country": .country
            case "device": .device
            case "event": .event
            case "flow": .flow
            case "path": .path
            case "lander": .lander
            case "offer": .offer
            default: text.hasPrefix("param:") && Slug.isValid(String(text.dropFirst(6))) ? .param(String(text.dropFirst(6))) : nil
            }
        }
    }

    public var from: String
    public var to: String
    public var timeZone: String
    public var currency: String
    public var groups: [Group]
    public var workspaceID: Int64?
    public var sourceID: Int64?
    public var campaignID: Int64?
    /// Only clicks (and their conversions) sent through this flow, and of its path `flowPath` (0-based).
    public var flowID: Int64?
    public var flowPath: Int?
    public var byConversionTime: Bool

    /// From query parameters; defaults (tz, currency) come from the workspace when one is named
    /// or the actor has only one, else UTC and USD.
    public init(_ request: Request, defaults: (tz: String, currency: String)) throws(HTTPError) {
        func text(_ name: String) -> String? { request.queryValue(name).flatMap { $0.isEmpty ? nil : $0 } }
        func id(_ name: String) throws(HTTPError) -> Int64? {
            guard let t = text(name) else { return nil }
            guard let v = Int64(t) else { throw HTTPError.badRequest("\(name) must be a number", field: name) }
            return v
        }
        let today = Dates.day(Date())
        from = text("from") ?? today
        to = text("to") ?? from
        guard let start = Dates.parseDay(from) else { throw HTTPError.badRequest("from must be a date YYYY-MM-DD", field: "from") }
        guard let end = Dates.parseDay(to) else { throw HTTPError.badRequest("to must be a date YYYY-MM-DD", field: "to") }
        guard end >= start else { throw HTTPError.badRequest("to is before from", field: "to") }
        guard end.timeIntervalSince(start) <= 400 * 86400 else {
            throw HTTPError.badRequest("the period is longer than 400 days", field: "to")
        }
        timeZone = text("tz") ?? defaults.tz
        // A NUL would cut the name short on its way to PostgreSQL ("UTC\0junk" read as UTC).
        guard !timeZone.utf8.contains(0), timeZone.utf8.count <= 64 else {
            throw HTTPError.badRequest("tz is not a time zone name (e.g. Europe/Berlin)", field: "tz")
        }
        currency = (text("currency") ?? defaults.currency).uppercased()
        guard Currency.isKnown(currency) else { throw HTTPError.badRequest("currency must be an ISO 4217 code", field: "currency") }
        var groups: [Group] = []
        for part in (text("group_by") ?? "traffic_source").split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let g = Group.parse(name) else {
                throw HTTPError.badRequest(
                    "group_by takes day, hour, traffic_source, campaign, param:NAME, country, device, event, flow, path, lander, "
                        + "offer (got \(name))",
                    field: "group_by")
            }
            if !groups.contains(g) { groups.append(g) }
        }
        guard groups.count <= 4 else { throw HTTPError.badRequest("group by at most 4 dimensions", field: "group_by") }
        self.groups = groups
        workspaceID = try id("workspace_id")
        sourceID = try id("traffic_source_id")
        campaignID = try id("campaign_id")
        flowID = try id("flow_id")
        let path = try id("path")
        guard path.map({ (0...1000).contains($0) }) ?? true else {
            throw HTTPError.badRequest("path must be a path's index (0 for the first)", field: "path")
        }
        guard path == nil || flowID != nil else { throw HTTPError.badRequest("path needs flow_id", field: "path") }
        flowPath = path.map { Int($0) }
        switch text("attribution") ?? "click" {
        case "click": byConversionTime = false
        case "conversion": byConversionTime = true
        default: throw HTTPError.badRequest("attribution must be click or conversion", field: "attribution")
        }
    }
}
