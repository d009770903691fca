import Foundation

/// A visitor going on from a lander to an offer (`/click`, SPEC §3): a row of `lander_clicks`,
/// one per click. It carries what reports count of its click, so its roll-up needs no read of
/// the click.
public struct ClickThrough: Codable, Sendable, Equatable {
    public var clickID: String
    public var clickedAt: Date
    public var throughAt: Date
    public var campaignID: Int64
    public var trafficSourceID: Int64
    public var workspaceID: Int64?
    public var flowID: Int64
    public var flowPath: Int
    public var landerID: Int64
    public var offerID: Int64
    /// Exact decimal text, the click's.
    public var cost: String
    public var isBot: Bool
    public var isUnique: Bool
    public var destination: String

    /// The click-through of `click` (sent through `flowID`'s path to a lander) to `offerID`.
    public init?(click: Click, offerID: Int64, destination: String, at: Date) {
        guard let flowID = click.flowID, let flowPath = click.flowPath, let landerID = click.landerID else { return nil }
        self.clickID = click.id
        self.clickedAt = click.clickedAt
        self.throughAt = at
        self.campaignID = click.campaignID
        self.trafficSourceID = click.trafficSourceID
        self.workspaceID = click.workspaceID
        self.flowID = flowID
        self.flowPath = flowPath
        self.landerID = landerID
        self.offerID = offerID
        self.cost = click.cost
        self.isBot = click.isBot
        self.isUnique = click.isUnique
        self.destination = String(destination.prefix(4000))
    }
}

/// What the click writer stores: a click or a click-through. In the spool a click is written
/// as before (its own JSON) and a click-through under `click_through`, so spool files written
/// before flows still replay.
public enum ClickRecord: Codable, Sendable {
    case click(Click)
    case through(ClickThrough)

    private enum Keys: String, CodingKey { case clickThrough = "click_through" }

    public init(from decoder: any Decoder) throws {
        let keyed = try decoder.container(keyedBy: Keys.self)
        if let through = try keyed.decodeIfPresent(ClickThrough.self, forKey: .clickThrough) {
            self = .through(through)
        } else {
            self = .click(try Click(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .click(let click): try click.encode(to: encoder)
        case .through(let through):
            var keyed = encoder.container(keyedBy: Keys.self)
            try keyed.encode(through, forKey: .clickThrough)
        }
    }

    /// The click's day (UTC, days since 1970), whose partition a click needs.
    var clickDay: Int? {
        if case .click(let click) = self { return Int(click.clickedAt.timeIntervalSince1970 / 86400) }
        return nil
    }
}
