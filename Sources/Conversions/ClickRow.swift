import Foundation
import Web

/// A stored click as the click API and the journey page show it. Encodes as the API's click
/// object (docs/api.md): `external_id` null when there is none, `parameters` by their names.
public struct ClickRow: Sendable, Encodable {
    public var id: String
    public var clickedAt: Date
    public var campaignID: Int64
    public var campaignName: String
    public var sourceID: Int64
    public var sourceName: String
    public var workspaceID: Int64?
    public var ip: String
    public var userAgent: String
    public var referrer: String
    public var externalID: String?
    public var cost: String
    public var isBot: Bool
    public var isUnique: Bool
    public var country: String
    public var device: String
    public var os: String
    public var browser: String
    public var destination: String
    public var parameters: [String: String]

    public init(
        id: String, clickedAt: Date, campaignID: Int64, campaignName: String, sourceID: Int64, sourceName: String, workspaceID: Int64?,
        ip: String, userAgent: String, referrer: String, externalID: String?, cost: String, isBot: Bool, isUnique: Bool,
        country: String, device: String, os: String, browser: String, destination: String, parameters: [String: String]
    ) {
        self.id = id
        self.clickedAt = clickedAt
        self.campaignID = campaignID
        self.campaignName = campaignName
        self.sourceID = sourceID
        self.sourceName = sourceName
        self.workspaceID = workspaceID
        self.ip = ip
        self.userAgent = userAgent
        self.referrer = referrer
        self.externalID = externalID
        self.cost = cost
        self.isBot = isBot
        self.isUnique = isUnique
        self.country = country
        self.device = device
        self.os = os
        self.browser = browser
        self.destination = destination
        self.parameters = parameters
    }

    enum CodingKeys: String, CodingKey {
        case id, ip, referrer, cost, country, device, os, browser, destination, parameters
        case clickedAt = "clicked_at", campaignID = "campaign_id", sourceID = "traffic_source_id", userAgent = "user_agent"
        case externalID = "external_id", isBot = "is_bot", isUnique = "is_unique"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(RFC3339.string(from: clickedAt), forKey: .clickedAt)
        try c.encode(campaignID, forKey: .campaignID)
        try c.encode(sourceID, forKey: .sourceID)
        try c.encode(ip, forKey: .ip)
        try c.encode(userAgent, forKey: .userAgent)
        try c.encode(referrer, forKey: .referrer)
        try c.encode(externalID, forKey: .externalID)  // null, not absent
        try c.encode(cost, forKey: .cost)
        try c.encode(isBot, forKey: .isBot)
        try c.encode(isUnique, forKey: .isUnique)
        try c.encode(country, forKey: .country)
        try c.encode(device, forKey: .device)
        try c.encode(os, forKey: .os)
        try c.encode(browser, forKey: .browser)
        try c.encode(destination, forKey: .destination)
        try c.encode(parameters, forKey: .parameters)  // names as defined, never case-converted
    }
}
