import Foundation
import WaymarkCore
import Web

/// A traffic source: where paid visitors come from, with its tracking parameters, cost
/// currency and how conversions are reported back.
public struct TrafficSource: Sendable {
    public struct Parameter: Codable, Sendable, Equatable {
        public var name: String
        public var token: String
        /// Stable column slot of this parameter in click rows (1…`maxParameters`).
        public var slot: Int

        public init(name: String, token: String, slot: Int) {
            self.name = name
            self.token = token
            self.slot = slot
        }
    }

    public static let maxParameters = 30

    public var id: Int64
    public var workspaceID: Int64?
    public var name: String
    public var template: String?
    public var costCurrency: String
    public var clickIDParam: String?
    public var parameters: [Parameter]
    public var postbackEnabled: Bool
    public var postbackURL: String?
    public var sendBack: SendBackRules
    /// Share of each payout reported to the source, in percent (plain decimal text).
    public var payoutPercent: String
    public var capiIntegrationID: Int64?
    public var notes: String
    public var createdAt: Date
}

/// What a page form or an API body sets on a source, before it is stored.
public struct TrafficSourceDraft: Sendable {
    public var name = ""
    public var workspaceID: Int64?
    public var template: String?
    public var costCurrency = "USD"
    public var clickIDParam: String?
    public var parameters: [(name: String, token: String)] = []
    public var postbackEnabled = false
    public var postbackURL: String?
    public var sendBack = SendBackRules(send: "all", events: [], reversals: false)
    public var payoutPercent = "100"
    public var capiIntegrationID: Int64?
    public var notes = ""

    public init() {}

    /// Pre-filled from a template (POST with `template` only pre-fills).
    public init(template: TemplateLibrary.Template) {
        name = template.name
        self.template = template.key
        clickIDParam = template.clickIdParam
        parameters = template.parameters.map { ($0.name, $0.token) }
        postbackURL = template.postbackUrl
        postbackEnabled = false
    }

    public init(_ source: TrafficSource) {
        name = source.name
        workspaceID = source.workspaceID
        template = source.template
        costCurrency = source.costCurrency
        clickIDParam = source.clickIDParam
        parameters = source.parameters.map { ($0.name, $0.token) }
        postbackEnabled = source.postbackEnabled
        postbackURL = source.postbackURL
        sendBack = source.sendBack
        payoutPercent = source.payoutPercent
        capiIntegrationID = source.capiIntegrationID
        notes = source.notes
    }

    /// Applies the JSON fields that are present (docs/api.md names); type errors go to `reader`.
    public mutating func apply(_ reader: inout FieldReader) {
        if let v = reader.string("name") { name = v }
        if let v = reader.int64("workspace_id") { workspaceID = v }
        if let v = reader.string("cost_currency") { costCurrency = v.uppercased() }
        if let v = reader.string("click_id_param") { clickIDParam = v.isEmpty ? nil : v }
        if let v = reader.string("notes") { notes = v }
        if let v = reader.int64("capi_integration_id") { capiIntegrationID = v }
        if reader.has("parameters") {
            if let list = reader.array("parameters") {
                var out: [(String, String)] = []
                for (i, item) in list.enumerated() {
                    guard let p = item as? [String: Any], let name = p["name"] as? String else {
                        reader.fail("parameters", "item \(i + 1) needs a name")
                        continue
                    }
                    out.append((name, p["token"] as? String ?? ""))
                }
                parameters = out
            } else {
                reader.fail("parameters", "must be a list of {name, token}")
            }
        }
        if reader.has("postback") {
            if let p = reader.object("postback") {
                if let enabled = p["enabled"] as? Bool { postbackEnabled = enabled }
                if p["url"] is NSNull { postbackURL = nil } else if let url = p["url"] as? String { postbackURL = url.isEmpty ? nil : url }
                if let send = p["send"] as? String {
                    sendBack.send = send
                } else if p["send"] != nil {
                    reader.fail("postback", "send must be all, approved or first")
                }
                if let events = p["events"] as? [String] {
                    sendBack.events = events
                } else if p["events"] != nil {
                    reader.fail("postback", "events must be a list of event keys")
                }
                if let reversals = p["reversals"] as? Bool { sendBack.reversals = reversals }
                if let pct = p["payout_percent"] as? String {
                    payoutPercent = pct
                } else if let pct = p["payout_percent"] as? NSNumber, !isJSONBool(pct) {
                    payoutPercent = pct.stringValue
                } else if p["payout_percent"] != nil {
                    reader.fail("postback", "payout_percent must be a decimal")
                }
            } else {
                reader.fail("postback", "must be an object {enabled, url}")
            }
        }
    }

    /// Field errors (→ 422) and warnings (shown, not blocking).
    public func check() -> (errors: [String: String], warnings: [String]) {
        var errors: [String: String] = [:]
        var warnings: [String] = []
        let name = self.name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty { errors["name"] = "is required" } else if name.count > 100 { errors["name"] = "is longer than 100 characters" }
        if !Currency.isKnown(costCurrency) { errors["cost_currency"] = "is not an ISO 4217 currency code" }
        if let p = clickIDParam, p.count > 64 || !p.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) {
            errors["click_id_param"] = "must be a query parameter name (letters, digits, _ - .)"
        }
        var seen = Set<String>()
        for (i, p) in parameters.enumerated() {
            if !Slug.isValid(p.name) {
                errors["parameters"] = "row \(i + 1): \"\(p.name)\" is not a slug (lower-case letters, digits, _ and -, up to 64)"
                break
            }
            if !seen.insert(p.name).inserted {
                errors["parameters"] = "row \(i + 1): the name \(p.name) is used twice"
                break
            }
            if p.token.count > 200 {
                errors["parameters"] = "row \(i + 1): the token is longer than 200 characters"
                break
            }
        }
        if parameters.count > TrafficSource.maxParameters {
            errors["parameters"] = "at most \(TrafficSource.maxParameters) parameters"
        }
        if let url = postbackURL {
            if !URLCheck.isAbsoluteHTTP(url) {
                errors["postback_url"] = "must be an absolute http(s) URL"
            } else {
                let known = Set(Tokens.postback + parameters.map(\.name))
                let unknown = Tokens.unknown(in: url, known: known)
                if !unknown.isEmpty {
                    warnings.append("The postback URL has unknown tokens: " + unknown.map { "{\($0)}" }.joined(separator: ", ") + ".")
                }
            }
        } else if postbackEnabled {
            errors["postback_url"] = "is required when the postback is on"
        }
        if !SendBackRules.sendOptions.contains(sendBack.send) { errors["postback_send"] = "must be all, approved or first" }
        if !Decimals.isPlain(payoutPercent) || (Decimal(string: payoutPercent) ?? 0) > 1000 {
            errors["postback_payout_percent"] = "must be a number from 0 to 1000"
        }
        if let bad = sendBack.events.first(where: { !Slug.isValid($0) }) { errors["postback_events"] = "\"\(bad)\" is not an event key" }
        if notes.count > 5000 { errors["notes"] = "is longer than 5000 characters" }
        return (errors, warnings)
    }
}
