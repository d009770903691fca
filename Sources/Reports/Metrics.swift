import Foundation
import Postgres

/// The formula registry: every report metric defined once, from the base sums of a row. The
/// API, the pages, the CSV export and the definitions page all read it.
public enum Metrics {
    public enum Kind: Sendable { case count, money, ratio }

    public struct Metric: Sendable {
        public var key: String
        public var label: String
        public var kind: Kind
        public var definition: String
        /// Derived metrics compute from the base sums; base metrics read them directly.
        public let value: @Sendable (Sums) -> Decimal?
    }

    /// What the queries sum per row (money already in the reporting currency).
    public struct Sums: Sendable {
        public var clicks: Decimal = 0
        public var botClicks: Decimal = 0
        public var uniqueClicks: Decimal = 0
        public var impressions: Decimal = 0
        public var conversions: Decimal = 0
        public var pendingConversions: Decimal = 0
        public var declinedConversions: Decimal = 0
        public var revenue: Decimal = 0
        public var cost: Decimal = 0
        /// Clicks (bots excluded) sent to a lander, and those of them that clicked through.
        public var landerViews: Decimal = 0
        public var landerClicks: Decimal = 0

        public init() {}

        public init(
            clicks: Decimal, botClicks: Decimal, uniqueClicks: Decimal, impressions: Decimal, conversions: Decimal,
            pendingConversions: Decimal, declinedConversions: Decimal, revenue: Decimal, cost: Decimal, landerViews: Decimal = 0,
            landerClicks: Decimal = 0
        ) {
            self.clicks = clicks
            self.botClicks = botClicks
            self.uniqueClicks = uniqueClicks
            self.impressions = impressions
            self.conversions = conversions
            self.pendingConversions = pendingConversions
            self.declinedConversions = declinedConversions
            self.revenue = revenue
            self.cost = cost
            self.landerViews = landerViews
            self.landerClicks = landerClicks
        }

        public static func + (a: Sums, b: Sums) -> Sums {
            Sums(
                clicks: a.clicks + b.clicks, botClicks: a.botClicks + b.botClicks, uniqueClicks: a.uniqueClicks + b.uniqueClicks,
                impressions: a.impressions + b.impressions, conversions: a.conversions + b.conversions,
                pendingConversions: a.pendingConversions + b.pendingConversions,
                declinedConversions: a.declinedConversions + b.declinedConversions,
                revenue: a.revenue + b.revenue, cost: a.cost + b.cost, landerViews: a.landerViews + b.landerViews,
                landerClicks: a.landerClicks + b.landerClicks)
        }
    }

    public static func ratio(_ a: Decimal, _ b: Decimal, times: Decimal = 1) -> Decimal? { b == 0 ? nil : a * times / b }

    public static let all: [Metric] = [
        Metric(
            key: "clicks", label: "Clicks", kind: .count,
            definition:
                "Stored clicks not flagged as bots. By offer, a click sent to a lander counts under the offer it clicked through to "
                + "(no offer until then).",
            value: { $0.clicks }),
        Metric(
            key: "bot_clicks", label: "Bot clicks", kind: .count,
            definition:
                "Clicks flagged as bots (crawler or headless user agents, an empty user agent, or a listed address). "
                + "They still got their redirect.",
            value: { $0.botClicks }),
        Metric(
            key: "unique_clicks", label: "Unique clicks", kind: .count,
            definition:
                "Clicks (bots excluded) with the unique flag: the first of their IP address and user agent on the campaign in 24 hours.",
            value: { $0.uniqueClicks }),
        Metric(
            key: "impressions", label: "Impressions", kind: .count,
            definition: "Impressions pulled from the source's integration; 0 where none are pulled.", value: { $0.impressions }),
        Metric(
            key: "conversions", label: "Conversions", kind: .count, definition: "Approved conversions of events that count as conversions.",
            value: { $0.conversions }),
        Metric(
            key: "pending_conversions", label: "Pending", kind: .count,
            definition: "Pending conversions of events that count as conversions.", value: { $0.pendingConversions }),
        Metric(
            key: "declined_conversions", label: "Declined", kind: .count,
            definition: "Declined conversions (chargebacks included) of events that count as conversions.",
            value: { $0.declinedConversions }),
        Metric(
            key: "revenue", label: "Revenue", kind: .money,
            definition:
                "Sum of approved payouts of events that count as revenue, each converted to the reporting currency at its day's rate.",
            value: { $0.revenue }),
        Metric(
            key: "cost", label: "Cost", kind: .money,
            definition:
                "Imported spend for the (day, source, campaign) where any exists; else the campaign's cost model: "
                + "CPC amount × clicks (bots included: they were paid for), auto = the clicks' cost parameter, "
                + "CPA amount × approved conversions, CPM amount × impressions ÷ 1000. "
                + "Spend imported without a campaign shows as an (unassigned) row. Converted at each day's rate.",
            value: { $0.cost }),
        Metric(key: "profit", label: "Profit", kind: .money, definition: "revenue − cost.", value: { $0.revenue - $0.cost }),
        Metric(
            key: "roi", label: "ROI %", kind: .ratio, definition: "profit ÷ cost × 100; empty when cost is 0.",
            value: { ratio($0.revenue - $0.cost, $0.cost, times: 100) }),
        Metric(
            key: "cr", label: "CR %", kind: .ratio, definition: "conversions ÷ clicks × 100; empty without clicks.",
            value: { ratio($0.conversions, $0.clicks, times: 100) }),
        Metric(
            key: "ctr", label: "CTR %", kind: .ratio, definition: "clicks ÷ impressions × 100; empty without impressions.",
            value: { ratio($0.clicks, $0.impressions, times: 100) }),
        Metric(
            key: "epc", label: "EPC", kind: .money, definition: "revenue ÷ clicks; empty without clicks.",
            value: { ratio($0.revenue, $0.clicks) }),
        Metric(
            key: "cpc", label: "CPC", kind: .money, definition: "cost ÷ clicks; empty without clicks.",
            value: { ratio($0.cost, $0.clicks) }
        ),
        Metric(
            key: "cpa", label: "CPA", kind: .money, definition: "cost ÷ conversions; empty without conversions.",
            value: { ratio($0.cost, $0.conversions) }),
        Metric(
            key: "lander_views", label: "Lander views", kind: .count,
            definition: "Clicks (bots excluded) that a flow sent to a lander.", value: { $0.landerViews }),
        Metric(
            key: "lander_clicks", label: "Lander clicks", kind: .count,
            definition:
                "Click-throughs from a lander to an offer (/click), once per click, on the click's time; bots excluded. "
                + "By offer: the offer clicked through to.",
            value: { $0.landerClicks }),
        Metric(
            key: "lander_ctr", label: "Lander CTR %", kind: .ratio,
            definition: "lander_clicks ÷ lander_views × 100; empty without lander views.",
            value: { ratio($0.landerClicks, $0.landerViews, times: 100) }),
    ]

    public static let byKey = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// A metric's value in JSON: counts as integers, money as decimal strings (4 places),
    /// ratios as numbers rounded to 2 places, or null.
    public enum Value: Sendable, Equatable, Encodable {
        case count(Int64)
        case money(String)
        case ratio(Double)
        case null

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .count(let v): try c.encode(v)
            case .money(let v): try c.encode(v)
            case .ratio(let v): try c.encode(v)
            case .null: try c.encodeNil()
            }
        }
    }

    public static func value(_ metric: Metric, _ sums: Sums) -> Value {
        guard let v = metric.value(sums) else { return .null }
        switch metric.kind {
        case .count: return .count(NSDecimalNumber(decimal: v).int64Value)
        case .money: return .money(text(v, places: 4))
        case .ratio: return .ratio(Double(text(v, places: 2)) ?? 0)
        }
    }

    /// A metric's value as page or CSV text (money with 2 places on pages, 4 in CSV).
    public static func display(_ metric: Metric, _ sums: Sums, moneyPlaces: Int = 2) -> String {
        guard let v = metric.value(sums) else { return "" }
        switch metric.kind {
        case .count: return text(v, places: 0)
        case .money: return text(v, places: moneyPlaces)
        case .ratio: return text(v, places: 2)
        }
    }

    public static func text(_ value: Decimal, places: Int) -> String {
        var v = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &v, places, .plain)
        var s = NSDecimalNumber(decimal: rounded).stringValue
        guard places > 0 else { return s }
        // Bytes, not Foundation's substring search (a report formats thousands of these).
        let point = UInt8(ascii: ".")
        let decimals = s.utf8.firstIndex(of: point).map { s.utf8.distance(from: $0, to: s.utf8.endIndex) - 1 }
        if decimals == nil { s += "." }
        s += String(repeating: "0", count: max(0, places - (decimals ?? 0)))
        return s
    }
}
