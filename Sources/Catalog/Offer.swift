import Foundation
import WaymarkCore
import Web

/// An offer: the advertiser's page a flow sends clicks to (SPEC section 9).
public struct Offer: Sendable, Equatable {
    public var id: Int64
    public var workspaceID: Int64?
    public var name: String
    /// Takes the destination tokens (`{clickid}`, parameters, `{offer_id}`, `{lander_id}`).
    public var url: String
    /// A conversion's payout when its postback brings none (plain decimal text, in `currency`).
    public var payout: String
    public var currency: String
    public var affiliateNetwork: String?
    /// Conversions per day in the workspace's zone; nil = no cap.
    public var dailyCap: Int?
    public var status: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, workspaceID: Int64?, name: String, url: String, payout: String, currency: String, affiliateNetwork: String?,
        dailyCap: Int?, status: String, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.name = name
        self.url = url
        self.payout = payout
        self.currency = currency
        self.affiliateNetwork = affiliateNetwork
        self.dailyCap = dailyCap
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What an API body sets on an offer, before it is stored.
public struct OfferDraft: Sendable, Equatable {
    public var name = ""
    public var workspaceID: Int64?
    public var url = ""
    public var payout = "0"
    public var currency = "USD"
    public var affiliateNetwork: String?
    public var dailyCap: Int?
    public var status = "active"

    public init() {}

    public init(_ offer: Offer) {
        name = offer.name
        workspaceID = offer.workspaceID
        url = offer.url
        payout = offer.payout
        currency = offer.currency
        affiliateNetwork = offer.affiliateNetwork
        dailyCap = offer.dailyCap
        status = offer.status
    }

    /// Applies the JSON fields that are present; type errors go to `reader`.
    public mutating func apply(_ reader: inout FieldReader) {
        if let v = reader.string("name") { name = v }
        if let v = reader.int64("workspace_id") { workspaceID = v }
        if let v = reader.string("url") { url = v.trimmingCharacters(in: .whitespaces) }
        if reader.has("payout") {
            if let v = reader.decimal("payout") { payout = v } else { reader.fail("payout", "must be a decimal number ≥ 0 like 1.50") }
        }
        if let v = reader.string("currency") { currency = v.uppercased() }
        if let v = reader.string("affiliate_network") {
            let trimmed = v.trimmingCharacters(in: .whitespaces)
            affiliateNetwork = trimmed.isEmpty ? nil : trimmed
        }
        if let v = reader.int64("daily_cap") {
            if let n = v, n < 1 || n > Int64(Int32.max) {
                reader.fail("daily_cap", "must be null (no cap) or a whole number ≥ 1")
            } else {
                dailyCap = v.map { Int($0) }
            }
        }
        if let v = reader.string("status") { status = v }
    }

    /// Field errors (→ 422), every bad field at once.
    public func check() -> [String: String] {
        var errors = FlowTargetFields.errors(name: name, url: url, status: status)
        if !Decimals.isPlain(payout) { errors["payout"] = "must be a decimal number ≥ 0 like 1.50" }
        if !Currency.isKnown(currency) { errors["currency"] = "is not an ISO 4217 currency code" }
        if let network = affiliateNetwork, network.count > 200 { errors["affiliate_network"] = "is longer than 200 characters" }
        if let cap = dailyCap, cap < 1 { errors["daily_cap"] = "must be null (no cap) or a whole number ≥ 1" }
        return errors
    }
}

extension Offer {
    /// An offer's or a lander's status; a paused one is skipped by the flow.
    public static let statuses: Set<String> = ["active", "paused"]
}
