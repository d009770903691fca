import Foundation

/// A stored click as recording a conversion needs it (ClickStore.forConversion).
public struct ClickForConversion: Sendable {
    public var id: String
    public var clickedAt: Date
    public var campaignID: Int64
    public var trafficSourceID: Int64
    public var workspaceID: Int64?
    public var externalID: String?
    public var campaignCurrency: String
    public var workspaceSecret: String?
    /// The click's parameters by name (slots of its source, then extras).
    public var parameters: [String: String]
    /// What Conversion-API pushes send along: the visitor's address and browser, the landing page.
    public var ip = ""
    public var userAgent = ""
    public var destination = ""
    /// The flow route the click took (SPEC §9): its conversions are the offer's.
    public var flowID: Int64?
    public var flowPath: Int?
    public var landerID: Int64?
    /// The offer drawn at the click, else at its lander click-through.
    public var offerID: Int64?
    /// The offer's payout and currency, for a postback that brings no payout.
    public var offerPayout: String?
    public var offerCurrency: String?

    public init(
        id: String, clickedAt: Date, campaignID: Int64, trafficSourceID: Int64, workspaceID: Int64?, externalID: String?,
        campaignCurrency: String, workspaceSecret: String?, parameters: [String: String], ip: String = "", userAgent: String = "",
        destination: String = ""
    ) {
        self.id = id
        self.clickedAt = clickedAt
        self.campaignID = campaignID
        self.trafficSourceID = trafficSourceID
        self.workspaceID = workspaceID
        self.externalID = externalID
        self.campaignCurrency = campaignCurrency
        self.workspaceSecret = workspaceSecret
        self.parameters = parameters
        self.ip = ip
        self.userAgent = userAgent
        self.destination = destination
    }
}
