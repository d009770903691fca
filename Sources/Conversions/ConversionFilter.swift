import WaymarkCore
import Web

/// Filters of the conversions page and API: `from`/`to` (dates, UTC, inclusive), campaign,
/// source, status, event.
public struct ConversionFilter {
    public var from: String
    public var to: String
    public var campaignID: Int64?
    public var sourceID: Int64?
    public var status: String?
    public var event: String?

    public init(_ request: Request, defaultDays: Int) throws(HTTPError) {
        (from, to) = try Dates.period(request, defaultDays: defaultDays)
        func id(_ name: String) throws(HTTPError) -> Int64? {
            guard let text = request.queryValue(name), !text.isEmpty else { return nil }
            guard let v = Int64(text) else { throw HTTPError.badRequest("\(name) must be a number", field: name) }
            return v
        }
        campaignID = try id("campaign_id")
        sourceID = try id("traffic_source_id")
        status = request.queryValue("status").flatMap { $0.isEmpty ? nil : $0 }
        if let status, PostbackInput.Status(rawValue: status) == nil {
            throw HTTPError.badRequest("status must be approved, pending or declined", field: "status")
        }
        event = request.queryValue("event").flatMap { $0.isEmpty ? nil : $0 }
    }
}
