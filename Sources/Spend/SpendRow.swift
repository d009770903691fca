import Foundation
import WaymarkCore
import Web

/// `from`/`to` (dates, default the last 30 days) and `traffic_source_id` of spend lists.
public struct SpendFilter: Sendable {
    public var from: String
    public var to: String
    public var sourceID: Int64?

    public init(from: String, to: String, sourceID: Int64? = nil) {
        self.from = from
        self.to = to
        self.sourceID = sourceID
    }

    public init(_ request: Request) throws(HTTPError) {
        (from, to) = try Dates.period(request, defaultDays: 30)
        if let text = request.queryValue("traffic_source_id"), !text.isEmpty {
            guard let id = Int64(text) else { throw HTTPError.badRequest("traffic_source_id must be a number", field: "traffic_source_id") }
            sourceID = id
        }
    }
}

/// A stored spend entry as lists show it; encodes as the API's entry (docs/api.md).
public struct SpendRow: Sendable, Encodable {
    public var id: Int64
    public var day: String
    public var sourceID: Int64
    public var sourceName: String
    public var campaignID: Int64?
    public var campaignName: String
    public var dimensions: [String: String]
    public var amount: String
    public var currency: String
    public var origin: String
    public var updatedAt: Date
    public var createdBy: String

    public init(
        id: Int64, day: String, sourceID: Int64, sourceName: String, campaignID: Int64?, campaignName: String,
        dimensions: [String: String], amount: String, currency: String, origin: String, updatedAt: Date, createdBy: String
    ) {
        self.id = id
        self.day = day
        self.sourceID = sourceID
        self.sourceName = sourceName
        self.campaignID = campaignID
        self.campaignName = campaignName
        self.dimensions = dimensions
        self.amount = amount
        self.currency = currency
        self.origin = origin
        self.updatedAt = updatedAt
        self.createdBy = createdBy
    }

    enum CodingKeys: String, CodingKey {
        case id, date, trafficSourceId, campaignId, dimensions, amount, currency, origin, updatedAt
    }

    /// Nulls stay in the answer: `campaign_id` at source level, `dimensions` when there are none.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(day, forKey: .date)
        try c.encode(sourceID, forKey: .trafficSourceId)
        try c.encode(campaignID, forKey: .campaignId)
        try c.encode(dimensions.isEmpty ? nil : dimensions, forKey: .dimensions)
        try c.encode(amount, forKey: .amount)
        try c.encode(currency, forKey: .currency)
        try c.encode(origin, forKey: .origin)
        try c.encode(RFC3339.string(from: updatedAt), forKey: .updatedAt)
    }

    /// The spend list page's row (template context).
    public var page: [String: Any] {
        [
            "day": day, "source": sourceName, "campaign": campaignName,
            "dimensions": dimensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
            "amount": amount, "currency": currency, "origin": origin, "by": createdBy, "updated_at": RFC3339.string(from: updatedAt),
        ]
    }
}
