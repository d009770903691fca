import Foundation
import Web

/// The API's view of a campaign (docs/api.md); what needs the actor or a query (the postback
/// URL, whether the URL is outdated, the effective reporting) comes from the caller.
public struct CampaignJSON: Encodable, Sendable {
    public struct CostModel: Encodable, Sendable {
        public var type: String
        public var amount: String
    }

    public var id: Int64
    public var key: String
    public var name: String
    public var trafficSourceId: Int64
    public var destinationUrl: String
    @Nullable public var fallbackUrl: String?
    public var status: String
    public var costModel: CostModel
    public var currency: String
    public var campaignUrl: String
    public var postbackUrl: String
    public var createdAt: Date
    /// Known when the campaign's source is: lists leave it out for sources the actor cannot see.
    public var campaignUrlOutdated: Bool?
    public var warnings: [String]?
    public var conversionReporting: ConversionReporting
    /// One campaign only (it takes a query): the reporting in effect once inheritance is resolved.
    public var conversionReportingEffective: EffectiveReporting?
    /// The flow the clicks go through; null: straight to `destination_url`.
    @Nullable public var flowId: Int64?

    public init(
        _ c: Campaign, postbackURL: String, outdated: Bool?, warnings: [String]? = nil, effective: EffectiveReporting? = nil
    ) {
        id = c.id
        key = c.key
        name = c.name
        trafficSourceId = c.trafficSourceID
        destinationUrl = c.destinationURL
        fallbackUrl = c.fallbackURL
        status = c.status
        costModel = CostModel(type: c.costModel.rawValue, amount: c.costAmount)
        currency = c.currency
        campaignUrl = c.campaignURL
        postbackUrl = postbackURL
        createdAt = c.createdAt
        campaignUrlOutdated = outdated
        self.warnings = warnings
        conversionReporting = c.reporting
        conversionReportingEffective = effective
        flowId = c.flowID
    }
}
