import Foundation

/// Turns the report query's rows into report rows: the dimensions named as the API shows them,
/// the labels the pages sort and show, the sums. Reads a row as text by column name, so it is
/// the same for a database row and a test's dictionary.
public struct ReportRowDecoder: Sendable {
    public let groups: [ReportRequest.Group]
    public let plan: ReportPlan
    /// Names of the visible sources and campaigns, by id.
    public let sourceNames: [Int64: String]
    public let campaignNames: [Int64: String]
    public let flowNames: FlowNames

    public init(
        groups: [ReportRequest.Group], plan: ReportPlan, sourceNames: [Int64: String], campaignNames: [Int64: String],
        flowNames: FlowNames = FlowNames()
    ) {
        self.groups = groups
        self.plan = plan
        self.sourceNames = sourceNames
        self.campaignNames = campaignNames
        self.flowNames = flowNames
    }

    public func row(_ column: (String) -> String?) -> ReportRow {
        var dimensions: [String: ReportValue] = [:]
        var labels: [String] = []
        func text(_ key: String, _ value: String?, missing: String) {
            if let value { dimensions[key] = .text(value) }
            labels.append(value ?? missing)
        }
        for g in groups {
            switch g {
            case .day: text("day", column("d_day"), missing: "")
            case .hour: text("hour", ReportRowDecoder.hourText(column("d_hour"), offset: column("d_offset")), missing: "(daily spend)")
            case .trafficSource:
                let id = column("d_source").flatMap { Int64($0) }
                let name = id.flatMap { sourceNames[$0] }
                if let id { dimensions["traffic_source_id"] = .id(id) }
                if let name { dimensions["traffic_source_name"] = .text(name) }
                labels.append(name ?? "")
            case .campaign:
                let id = column("d_campaign").flatMap { Int64($0) }
                let name = id.map { campaignNames[$0] ?? "" } ?? "(unassigned)"
                if let id { dimensions["campaign_id"] = .id(id) }
                dimensions["campaign_name"] = .text(name)
                labels.append(name)
            case .param(let name): text(name, column(plan.paramColumn(name)), missing: "(unassigned)")
            case .country: text("country", column("d_country"), missing: "(unassigned)")
            case .device: text("device", column("d_device"), missing: "(unassigned)")
            case .event: text("event", column("d_event"), missing: "(no event)")
            case .flow, .path, .lander, .offer: flowDimension(g, column, into: &dimensions, labels: &labels)
            }
        }
        return ReportRow(dimensions: dimensions, sums: ReportRowDecoder.sums(column), labels: labels)
    }

    /// `flow_id` + `flow_name`, `path` (its name), `lander_id` + `lander_name`, `offer_id` +
    /// `offer_name`: null where the click had none.
    func flowDimension(
        _ g: ReportRequest.Group, _ column: (String) -> String?, into dimensions: inout [String: ReportValue], labels: inout [String]
    ) {
        func named(_ key: String, _ id: Int64?, _ names: [Int64: String], missing: String) {
            dimensions[key + "_id"] = id.map { .id($0) } ?? .null
            let name = id.map { names[$0] ?? "#\($0)" }
            dimensions[key + "_name"] = name.map { .text($0) } ?? .null
            labels.append(name ?? missing)
        }
        switch g {
        case .flow: named("flow", column("d_flow").flatMap { Int64($0) }, flowNames.flows, missing: "(no flow)")
        case .lander: named("lander", column("d_lander").flatMap { Int64($0) }, flowNames.landers, missing: "(no lander)")
        case .offer: named("offer", column("d_offer").flatMap { Int64($0) }, flowNames.offers, missing: "(no offer)")
        default:
            guard let flow = column("d_pflow").flatMap({ Int64($0) }), let index = column("d_path").flatMap({ Int($0) }) else {
                dimensions["path"] = .null
                labels.append("(no flow)")
                return
            }
            let name = flowNames.path(flow: flow, index: index)
            dimensions["path"] = .text(name)
            labels.append(name)
        }
    }

    /// The base sums of a row (missing columns count 0).
    public static func sums(_ column: (String) -> String?) -> Metrics.Sums {
        func d(_ c: String) -> Decimal { Decimal(string: column(c) ?? "0") ?? 0 }
        var s = Metrics.Sums()
        s.clicks = d("clicks")
        s.botClicks = d("bot_clicks")
        s.uniqueClicks = d("unique_clicks")
        s.impressions = d("impressions")
        s.conversions = d("conversions")
        s.pendingConversions = d("pending")
        s.declinedConversions = d("declined")
        s.revenue = d("revenue")
        s.cost = d("cost")
        s.landerViews = d("lander_views")
        s.landerClicks = d("lander_clicks")
        return s
    }

    /// Local hour start with its UTC offset, RFC 3339 (`2026-03-29T01:00:00+01:00`).
    public static func hourText(_ local: String?, offset: String?) -> String? {
        guard let local, let seconds = offset.flatMap({ Int($0) }) else { return nil }
        let sign = seconds < 0 ? "-" : "+"
        let a = abs(seconds)
        return String(local.prefix(19)).replacingOccurrences(of: " ", with: "T")
            + String(format: "%@%02d:%02d", sign, a / 3600, (a % 3600) / 60)
    }
}
