import Foundation
import WaymarkCore
import Web

/// How a campaign's conversions are reported back to the ad platform: as its traffic source
/// does (the default), by its own S2S postback URL, to a Conversion-API integration of its
/// own choosing, or not at all; with its own send-back rules when it does not inherit.
public struct ConversionReporting: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        case source, postback, capi, none
    }

    public var method: Method = .source
    public var postbackURL: String?
    public var integrationID: Int64?
    public var rules = SendBackRules(send: "all", events: [], reversals: false)
    public var payoutPercent = "100"

    public init() {}

    /// `conversion_reporting: {method, postback_url, integration_id, send, payout_percent, events, reversals}`.
    public mutating func apply(_ reader: inout FieldReader) {
        guard reader.has("conversion_reporting") else { return }
        guard let object = reader.object("conversion_reporting") else {
            reader.fail(
                "conversion_reporting", "must be an object {method, postback_url, integration_id, send, payout_percent, events, reversals}")
            return
        }
        var inner = FieldReader(object)
        if let v = inner.string("method") {
            if let m = Method(rawValue: v) {
                method = m
            } else {
                reader.fail("conversion_reporting.method", "must be source, postback, capi or none")
            }
        }
        if inner.has("postback_url") { postbackURL = inner.string("postback_url")?.trimmingCharacters(in: .whitespaces).nilIfEmpty }
        if let v = inner.int64("integration_id") { integrationID = v }
        if let v = inner.string("send") { rules.send = v }
        if inner.has("payout_percent") {
            if let v = inner.decimal("payout_percent") {
                payoutPercent = v
            } else {
                reader.fail("conversion_reporting.payout_percent", "must be a number from 0 to 1000")
            }
        }
        if let v = inner.array("events") {
            rules.events = v.compactMap { ($0 as? String)?.trimmingCharacters(in: .whitespaces).lowercased() }
        }
        if let v = inner.bool("reversals") { rules.reversals = v }
        for (k, v) in inner.errors { reader.fail("conversion_reporting." + k, v) }
    }

    /// Field errors (keys `conversion_reporting.…`); which integrations may be chosen is the store's check.
    public func check() -> [String: String] {
        var errors: [String: String] = [:]
        let prefix = "conversion_reporting."
        switch method {
        case .postback:
            if let url = postbackURL {
                if !URLCheck.isAbsoluteHTTP(url) || url.count > 4000 { errors[prefix + "postback_url"] = "must be an absolute http(s) URL" }
            } else {
                errors[prefix + "postback_url"] = "is required for the postback method"
            }
        case .capi:
            if integrationID == nil { errors[prefix + "integration_id"] = "is required for the Conversion-API method" }
        case .source, .none: break
        }
        if !SendBackRules.sendOptions.contains(rules.send) { errors[prefix + "send"] = "must be all, approved or first" }
        if !Decimals.isPlain(payoutPercent) || (Decimal(string: payoutPercent) ?? 0) > 1000 {
            errors[prefix + "payout_percent"] = "must be a number from 0 to 1000"
        }
        if let bad = rules.events.first(where: { !Slug.isValid($0) }) { errors[prefix + "events"] = "\"\(bad)\" is not an event key" }
        return errors
    }

}

/// `{method, postback_url, integration_id, send, payout_percent, events, reversals}`, nulls kept.
extension ConversionReporting: Encodable {
    enum CodingKeys: String, CodingKey { case method, postbackURL, integrationID, send, payoutPercent, events, reversals }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(method.rawValue, forKey: .method)
        try c.encode(postbackURL, forKey: .postbackURL)
        try c.encode(integrationID, forKey: .integrationID)
        try c.encode(rules.send, forKey: .send)
        try c.encode(payoutPercent, forKey: .payoutPercent)
        try c.encode(rules.events, forKey: .events)
        try c.encode(rules.reversals, forKey: .reversals)
    }
}

/// What is in effect for a campaign once inheritance is resolved, with where it comes from.
public struct EffectiveReporting: Sendable {
    public var postbackURL: String?
    public var integrationID: Int64?
    public var rules: SendBackRules
    public var payoutPercent: String
    /// `traffic_source` or `campaign`.
    public var from: String
    public var sourceName: String
    public var description: String
    public var warnings: [String]
}

/// The API's `conversion_reporting_effective`: nulls kept, the source's name not shown.
extension EffectiveReporting: Encodable {
    enum CodingKeys: String, CodingKey { case postbackURL, integrationID, from, description, warnings, send, payoutPercent, events }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(postbackURL, forKey: .postbackURL)
        try c.encode(integrationID, forKey: .integrationID)
        try c.encode(from, forKey: .from)
        try c.encode(description, forKey: .description)
        try c.encode(warnings, forKey: .warnings)
        try c.encode(rules.send, forKey: .send)
        try c.encode(payoutPercent, forKey: .payoutPercent)
        try c.encode(rules.events, forKey: .events)
    }
}
