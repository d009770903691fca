import Foundation
import WaymarkCore
import Web

/// A campaign: a tracking link on one traffic source that sends visitors to a destination.
public struct Campaign: Sendable {
    public enum CostModel: String, Sendable, CaseIterable { case none, cpc, cpm, cpa, auto }

    public var id: Int64
    public var key: String
    public var name: String
    public var trafficSourceID: Int64
    public var workspaceID: Int64?
    public var destinationURL: String
    public var fallbackURL: String?
    public var status: String
    public var costModel: CostModel
    /// Exact decimal text as PostgreSQL keeps it (`0.450000`).
    public var costAmount: String
    public var currency: String
    public var campaignURL: String
    public var createdAt: Date
    public var reporting = ConversionReporting()
    /// With a flow the clicks go through it (SPEC section 9) and `destinationURL` is optional.
    public var flowID: Int64?
}

public struct CampaignDraft: Sendable {
    public var name = ""
    public var trafficSourceID: Int64?
    public var destinationURL = ""
    public var fallbackURL: String?
    public var status = "active"
    public var costModel = Campaign.CostModel.none
    public var costAmount = "0"
    public var reporting = ConversionReporting()
    public var flowID: Int64?

    public init() {}

    public init(_ c: Campaign) {
        name = c.name
        trafficSourceID = c.trafficSourceID
        destinationURL = c.destinationURL
        fallbackURL = c.fallbackURL
        status = c.status
        costModel = c.costModel
        costAmount = c.costAmount
        reporting = c.reporting
        flowID = c.flowID
    }

    public mutating func apply(_ reader: inout FieldReader) {
        if let v = reader.string("name") { name = v }
        if let v = reader.int64("traffic_source_id") { trafficSourceID = v }
        if let v = reader.string("destination_url") { destinationURL = v.trimmingCharacters(in: .whitespaces) }
        if let v = reader.string("fallback_url") { fallbackURL = v.isEmpty ? nil : v.trimmingCharacters(in: .whitespaces) }
        if let v = reader.string("status") { status = v }
        if let v = reader.int64("flow_id") { flowID = v }
        reporting.apply(&reader)
        if reader.has("cost_model") {
            guard let model = reader.object("cost_model") else {
                reader.fail("cost_model", "must be an object {type, amount}")
                return
            }
            var inner = FieldReader(model)
            if let type = inner.string("type") {
                if let m = Campaign.CostModel(rawValue: type) {
                    costModel = m
                } else {
                    reader.fail("cost_model", "type must be none, cpc, cpm, cpa or auto")
                }
            }
            if inner.has("amount") {
                if let amount = inner.decimal("amount") {
                    costAmount = amount
                } else {
                    reader.fail("cost_model", "amount must be a decimal number ≥ 0 like 0.45")
                }
            }
        }
    }

    /// Field errors and warnings; `parameterNames` are the source's (they are tokens too).
    public func check(parameterNames: [String]) -> (errors: [String: String], warnings: [String]) {
        var errors: [String: String] = [:]
        var warnings: [String] = []
        let name = self.name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty { errors["name"] = "is required" } else if name.count > 200 { errors["name"] = "is longer than 200 characters" }
        if trafficSourceID == nil { errors["traffic_source_id"] = "is required" }
        if destinationURL.isEmpty {
            if flowID == nil { errors["destination_url"] = "is required" }
        } else if !URLCheck.isAbsoluteHTTP(destinationURL) || destinationURL.count > 4000 {
            errors["destination_url"] = "must be an absolute http(s) URL"
        } else {
            let tokens = Tokens.names(in: destinationURL)
            if !tokens.contains("clickid") {
                warnings.append("The destination URL has no {clickid}: conversions from it cannot be matched to their clicks.")
            }
            let unknown = Tokens.unknown(in: destinationURL, known: Set(Tokens.destination + parameterNames))
            if !unknown.isEmpty {
                warnings.append(
                    "Unknown tokens in the destination URL (they will be left empty): " + unknown.map { "{\($0)}" }.joined(separator: ", ")
                        + ".")
            }
        }
        if let fallback = fallbackURL, !URLCheck.isAbsoluteHTTP(fallback) { errors["fallback_url"] = "must be an absolute http(s) URL" }
        if status != "active" && status != "paused" { errors["status"] = "must be active or paused" }
        if !Decimals.isPlain(costAmount) { errors["cost_model"] = "amount must be a decimal number ≥ 0 like 0.45" }
        errors.merge(reporting.check()) { a, _ in a }
        return (errors, warnings)
    }
}

/// The links a campaign gives out, built from the public origins.
public struct TrackingLinks: Sendable {
    public var httpsOrigin: String
    public var httpOrigin: String

    public init(httpsOrigin: String, httpOrigin: String) {
        self.httpsOrigin = httpsOrigin
        self.httpOrigin = httpOrigin
    }

    /// `https://HOST/c/KEY?name=token&…`: the platform's macros stay literal so the platform
    /// can replace them; parameters without a token are left for the user to fill.
    public func campaignURL(key: String, parameters: [TrafficSource.Parameter], https: Bool = true) -> String {
        let base = (https ? httpsOrigin : httpOrigin) + "/c/" + key
        guard !parameters.isEmpty else { return base }
        return base + "?" + parameters.map { $0.name + "=" + $0.token }.joined(separator: "&")
    }

    /// The postback URL an affiliate network calls; `{clickid}` is what the network fills in
    /// from the sub id it received (its own macro replaces it).
    public func postbackURL(secret: String?) -> String {
        var url = httpsOrigin + "/postback?clickid={clickid}&payout={payout}&txid={txid}&status={status}"
        if let secret { url += "&secret=" + URLEncoding.encode(secret) }
        return url
    }
}
