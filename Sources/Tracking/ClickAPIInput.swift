import Foundation
import Web

/// The JSON body of `POST /api/v1/clicks` (docs/api.md): `{campaign_key, parameters:{NAME: value},
/// ip?, user_agent?, referrer?}`. No database here, so it is fuzzed on its own
/// (Tests/Fuzz/FuzzClickJSON.swift); `TrackingRoutes.apiClick` finds the campaign.
public struct ClickAPIInput {
    public var campaignKey: String
    public var ip: String
    public var userAgent: String
    public var referrer: String
    /// Sorted by name.
    public var parameters: [(String, String)]

    /// Every problem found, as one 422; `remoteAddress` stands in for a missing `ip`.
    public init(json object: [String: Any], remoteAddress: String) throws(HTTPError) {
        var reader = FieldReader(object)
        let key = reader.string("campaign_key") ?? ""
        ip = reader.string("ip") ?? remoteAddress
        userAgent = reader.string("user_agent") ?? ""
        referrer = reader.string("referrer") ?? ""
        var parameters: [(String, String)] = []
        if reader.has("parameters") {
            if let object = reader.object("parameters") {
                for (name, value) in object.sorted(by: { $0.key < $1.key }) {
                    if let s = value as? String {
                        parameters.append((name, s))
                    } else if let n = value as? NSNumber {
                        parameters.append((name, n.stringValue))
                    } else {
                        reader.fail("parameters", "values must be strings")
                    }
                }
            } else {
                reader.fail("parameters", "must be an object of name → value")
            }
        }
        if key.isEmpty { reader.fail("campaign_key", "is required") }
        guard reader.errors.isEmpty else { throw HTTPError.validation(reader.errors) }
        campaignKey = key
        self.parameters = parameters
    }
}
