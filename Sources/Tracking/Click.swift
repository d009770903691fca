import Foundation

/// One stored click (a row of `clicks`; also a spool record while PostgreSQL is away).
public struct Click: Codable, Sendable {
    public var id: String
    public var clickedAt: Date
    public var campaignID: Int64
    public var trafficSourceID: Int64
    public var workspaceID: Int64?
    public var ip: String
    public var userAgent: String
    public var referrer: String
    public var externalID: String?
    /// Exact decimal text.
    public var cost: String
    public var isBot: Bool
    public var isUnique: Bool
    public var country: String
    public var device: String
    public var os: String
    public var browser: String
    public var destination: String
    /// Slot number → parameter value.
    public var slots: [Int: String]
    /// Query parameters that are not the source's.
    public var extra: [String: String]
    /// Set when the campaign sends its clicks through a flow (SPEC §9): the flow, the path
    /// (0-based), the lander, and the offer when drawn at the click (direct linking). Absent
    /// in spool records written before flows.
    public var flowID: Int64? = nil
    public var flowPath: Int? = nil
    public var landerID: Int64? = nil
    public var offerID: Int64? = nil

    /// PostgreSQL text cannot hold NUL, and one bad row would fail a whole batch: clean
    /// every value before it is queued.
    public mutating func sanitize() {
        func clean(_ s: String, _ limit: Int) -> String {
            let t = s.utf8.contains(0) ? String(decoding: s.utf8.filter { $0 != 0 }, as: UTF8.self) : s
            return t.utf8.count > limit ? String(t.prefix(limit)) : t
        }
        ip = clean(ip, 64)
        userAgent = clean(userAgent, 1000)
        referrer = clean(referrer, 2000)
        externalID = externalID.map { clean($0, 500) }
        country = clean(country, 8)
        destination = clean(destination, 4000)
        slots = slots.mapValues { clean($0, 500) }
        extra = Dictionary(extra.prefix(50).map { (clean($0.key, 100), clean($0.value, 500)) }, uniquingKeysWith: { a, _ in a })
    }
}
