import Foundation
import WaymarkCore
import Web

/// The fields of a postback (docs/tracking.md) from its query, form or JSON body, checked.
public struct PostbackInput: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        case approved, pending, declined
    }

    public var clickID: String
    public var payout: String
    /// False when the postback named no payout (then a click's offer lends its own).
    public var hasPayout: Bool
    public var currency: String?
    public var txid: String?
    public var status: Status
    public var event: String
    public var secret: String?
    /// When it arrived, for one replayed from the spool (nil: now).
    public var receivedAt: Date?

    /// One conversion per click and key: the txid when there is one, else the event.
    public var dedupeKey: String { txid.map { "t:" + $0 } ?? "e:" + event }

    /// From name → value pairs (query first, then body); the first bad field throws a 400.
    public init(_ pairs: [(String, String)], requireClickID: Bool = true) throws(HTTPError) {
        func value(_ names: String...) -> String? {
            for name in names {
                if let v = pairs.first(where: { $0.0 == name })?.1.trimmingSpaces, !v.isEmpty { return v }
            }
            return nil
        }
        // PostgreSQL keeps no NUL in text (a click id or txid with one would be stored cut short).
        for (name, v) in pairs where v.utf8.contains(0) && PostbackInput.fields.contains(name) {
            throw HTTPError.badRequest("\(name) must not contain NUL (%00)", field: name)
        }
        let clickID = value("clickid", "cid", "subid") ?? ""
        if requireClickID, clickID.isEmpty { throw HTTPError.badRequest("clickid is required", field: "clickid") }
        if clickID.utf8.count > 200 { throw HTTPError.badRequest("clickid is longer than 200 characters", field: "clickid") }
        self.clickID = clickID
        let payout = value("payout") ?? "0"
        guard Decimals.isPlain(payout) else {
            throw HTTPError.badRequest("payout must be a decimal number ≥ 0 with . as separator", field: "payout")
        }
        self.payout = payout
        hasPayout = value("payout") != nil
        if let c = value("currency") {
            guard Currency.isKnown(c.uppercased()) else {
                throw HTTPError.badRequest("currency must be an ISO 4217 code", field: "currency")
            }
            currency = c.uppercased()
        }
        if let t = value("txid") {
            guard t.utf8.count <= 200 else { throw HTTPError.badRequest("txid is longer than 200 characters", field: "txid") }
            txid = t
        }
        let statusText = (value("status") ?? "approved").lowercased()
        guard let status = Status(rawValue: statusText) else {
            throw HTTPError.badRequest("status must be approved, pending or declined", field: "status")
        }
        self.status = status
        let event = (value("event") ?? "conversion").lowercased()
        guard Slug.isValid(event) else {
            throw HTTPError.badRequest("event must be a slug (lower-case letters, digits, _ and -, up to 64)", field: "event")
        }
        self.event = event
        secret = value("secret")
    }

    /// The parameters of docs/tracking.md (with the click id's aliases).
    public static let fields: Set<String> = ["clickid", "cid", "subid", "payout", "currency", "txid", "status", "event", "secret"]

    /// Query pairs, then form or JSON body pairs (JSON numbers become their text).
    public static func pairs(of request: Request) throws(HTTPError) -> [(String, String)] {
        var pairs = request.query
        guard request.method == "POST", !request.body.isEmpty else { return pairs }
        if request.contentType == "application/json" {
            for (name, value) in try request.jsonObject() {
                if let s = value as? String {
                    pairs.append((name, s))
                } else if let n = value as? NSNumber {
                    pairs.append((name, n.stringValue))
                } else if fields.contains(name), !(value is NSNull) {
                    // An object or array where a parameter belongs is refused, not taken as missing.
                    throw HTTPError.badRequest("\(name) must be a string or a number", field: name)
                }
            }
        } else {
            pairs += try request.form()
        }
        return pairs
    }
}
