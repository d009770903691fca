import Foundation
import Web

/// A conversion as the conversions API and pages show it. Encodes as the API's conversion
/// object (docs/api.md): the id as a string, `txid` null when there is none.
public struct ConversionRow: Sendable, Encodable {
    public var id: Int64
    public var clickID: String
    public var campaignID: Int64
    public var campaignName: String
    public var sourceID: Int64
    public var sourceName: String
    public var event: String
    public var txid: String?
    public var status: String
    public var payout: String
    public var currency: String
    public var convertedAt: Date
    public var updatedAt: Date
    public var clickedAt: Date

    public init(
        id: Int64, clickID: String, campaignID: Int64, campaignName: String, sourceID: Int64, sourceName: String, event: String,
        txid: String?, status: String, payout: String, currency: String, convertedAt: Date, updatedAt: Date, clickedAt: Date
    ) {
        self.id = id
        self.clickID = clickID
        self.campaignID = campaignID
        self.campaignName = campaignName
        self.sourceID = sourceID
        self.sourceName = sourceName
        self.event = event
        self.txid = txid
        self.status = status
        self.payout = payout
        self.currency = currency
        self.convertedAt = convertedAt
        self.updatedAt = updatedAt
        self.clickedAt = clickedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, event, txid, status, payout, currency
        case clickID = "click_id", campaignID = "campaign_id", sourceID = "traffic_source_id"
        case convertedAt = "converted_at", updatedAt = "updated_at", clickedAt = "clicked_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(String(id), forKey: .id)
        try c.encode(clickID, forKey: .clickID)
        try c.encode(campaignID, forKey: .campaignID)
        try c.encode(sourceID, forKey: .sourceID)
        try c.encode(event, forKey: .event)
        try c.encode(txid, forKey: .txid)  // null, not absent
        try c.encode(status, forKey: .status)
        try c.encode(payout, forKey: .payout)
        try c.encode(currency, forKey: .currency)
        try c.encode(RFC3339.string(from: convertedAt), forKey: .convertedAt)
        try c.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
        try c.encode(RFC3339.string(from: clickedAt), forKey: .clickedAt)
    }
}
