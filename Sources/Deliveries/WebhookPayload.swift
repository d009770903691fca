import Conversions
import Foundation
import Web

/// The body a workspace's webhooks receive for a recorded or updated conversion
/// (docs/api.md): `external_id`, `previous_status` and `txid` are null when there is none.
public struct WebhookPayload: Sendable, Encodable {
    public var type: String
    public var conversion: Conversion
    public var sentAt: Date

    public struct Conversion: Sendable, Encodable {
        public var id: String
        public var clickID: String
        public var externalID: String?
        public var campaignID: Int64
        public var trafficSourceID: Int64
        public var event: String
        public var status: String
        public var previousStatus: String?
        public var payout: String
        public var currency: String
        public var txid: String?
        public var clickedAt: Date

        enum CodingKeys: String, CodingKey {
            case id, event, status, payout, currency, txid
            case clickID = "click_id", externalID = "external_id", campaignID = "campaign_id", trafficSourceID = "traffic_source_id"
            case previousStatus = "previous_status", clickedAt = "clicked_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(clickID, forKey: .clickID)
            try c.encode(externalID, forKey: .externalID)  // null, not absent (and below)
            try c.encode(campaignID, forKey: .campaignID)
            try c.encode(trafficSourceID, forKey: .trafficSourceID)
            try c.encode(event, forKey: .event)
            try c.encode(status, forKey: .status)
            try c.encode(previousStatus, forKey: .previousStatus)
            try c.encode(payout, forKey: .payout)
            try c.encode(currency, forKey: .currency)
            try c.encode(txid, forKey: .txid)
            try c.encode(RFC3339.string(from: clickedAt), forKey: .clickedAt)
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, conversion
        case sentAt = "sent_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(conversion, forKey: .conversion)
        try c.encode(RFC3339.string(from: sentAt), forKey: .sentAt)
    }

    public init(
        recorded: Bool, conversionID: Int64, click: ClickForConversion, input: PostbackInput, currency: String, previousStatus: String?,
        sentAt: Date
    ) {
        type = recorded ? "conversion.recorded" : "conversion.updated"
        conversion = Conversion(
            id: String(conversionID), clickID: click.id, externalID: click.externalID, campaignID: click.campaignID,
            trafficSourceID: click.trafficSourceID, event: input.event, status: input.status.rawValue, previousStatus: previousStatus,
            payout: input.payout, currency: currency, txid: input.txid, clickedAt: click.clickedAt)
        self.sentAt = sentAt
    }

    /// The body as sent and signed: sorted keys, slashes escaped as they always were.
    public func body() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
