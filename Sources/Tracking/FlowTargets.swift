import Foundation
import WaymarkCore

/// What the click path needs of an offer (SPEC §9), handed to `CompiledFlow` by whoever loads
/// the campaign cache. Whether it is capped out today is asked at match time (the counts live
/// elsewhere); `dailyCap` is here for that counter.
public struct FlowOfferInfo: Sendable, Equatable {
    public var id: Int64
    /// Unfilled: section 3's tokens plus `{offer_id}`, `{lander_id}`.
    public var url: String
    /// False for a paused offer: the flow skips it.
    public var active: Bool
    public var dailyCap: Int?
    public var payout: Decimal?
    public var currency: String

    public init(id: Int64, url: String, active: Bool = true, dailyCap: Int? = nil, payout: Decimal? = nil, currency: String = "") {
        self.id = id
        self.url = url
        self.active = active
        self.dailyCap = dailyCap
        self.payout = payout
        self.currency = currency
    }
}

/// What the click path needs of a lander.
public struct FlowLanderInfo: Sendable, Equatable {
    public var id: Int64
    public var url: String
    /// False for a paused lander: the flow skips it (when a path's landers are all paused, its
    /// clicks go straight to an offer, as with none listed).
    public var active: Bool

    public init(id: Int64, url: String, active: Bool = true) {
        self.id = id
        self.url = url
        self.active = active
    }
}

/// What an offer and a lander share for the click path: an id and a URL with tokens.
public protocol FlowTargetInfo: Sendable {
    var id: Int64 { get }
    var url: String { get }
}

extension FlowOfferInfo: FlowTargetInfo {}
extension FlowLanderInfo: FlowTargetInfo {}

/// An offer or a lander of a compiled flow with its URL parsed once.
public struct FlowTarget<Info: FlowTargetInfo>: Sendable {
    public let info: Info
    public let template: TokenTemplate

    init(_ info: Info) {
        self.info = info
        template = TokenTemplate(info.url)
    }

    public var id: Int64 { info.id }
}

public typealias FlowOffer = FlowTarget<FlowOfferInfo>
public typealias FlowLander = FlowTarget<FlowLanderInfo>

/// Where a matched click goes: its path, the lander (then the offer is drawn at `/click`) or
/// the offer (direct linking), and the URL to send it to, tokens not yet filled.
public struct FlowRoute: Sendable {
    /// 0-based, in the flow's order.
    public let pathIndex: Int
    public let lander: FlowLander?
    public let offer: FlowOffer?

    public var landerID: Int64? { lander?.id }
    public var offerID: Int64? { offer?.id }
    /// The lander's URL, else the offer's (one of the two is always set).
    public var url: String { lander?.info.url ?? offer?.info.url ?? "" }
    public var template: TokenTemplate { lander?.template ?? offer?.template ?? TokenTemplate("") }
}

/// The flow's answer for a visit: a route, or no path could take it (no path matched, or every
/// matching path's offers are paused or capped): the caller sends it to the campaign's
/// fallback URL.
public enum FlowDecision: Sendable {
    case routed(FlowRoute)
    case fallback

    public var route: FlowRoute? {
        if case .routed(let route) = self { return route }
        return nil
    }
}
