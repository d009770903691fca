import Foundation
import Logging
import Postgres
import WaymarkCore
import Web

/// Records a postback (docs/tracking.md) in one transaction: find the click (its id gives the day
/// partition), check the workspace secret, create the event if new, upsert the conversion on
/// its key, queue the deliveries, and keep the postback as received in the ledger.
public struct ConversionRecorder: Sendable {
    public enum Outcome: String, Sendable {
        case recorded, duplicate, updated, unattributed, invalid, forbidden, attached
    }

    public struct Result: Sendable {
        public var outcome: Outcome
        public var conversionID: Int64?
        public var postbackID: Int64
    }

    public let database: PostgresPool
    public let outbox: any ConversionOutbox
    public let logger: Logger
    /// Unattributed postbacks per source address (nginx's limits stay generous for networks).
    public let unattributedLimit: AddressRateLimiter
    let clicks: ClickStore
    let conversions: ConversionStore
    let events: ConversionEventStore
    let postbacks: PostbackStore

    public init(database: PostgresPool, outbox: any ConversionOutbox, logger: Logger, unattributedLimit: AddressRateLimiter) {
        self.database = database
        self.outbox = outbox
        self.logger = logger
        self.unattributedLimit = unattributedLimit
        clicks = ClickStore(database: database)
        conversions = ConversionStore(database: database)
        events = ConversionEventStore(database: database)
        postbacks = PostbackStore(database: database)
    }

    /// A bad postback is kept in the ledger too, then its 400 is thrown.
    public func reject(_ raw: Raw, error: HTTPError, clickID: String?) throws -> Never {
        guard unattributedLimit.allow(raw.sourceIP) else {
            throw HTTPError.tooManyRequests("too many bad postbacks from this address; slow down")
        }
        try? postbacks.insertInvalid(raw.kept(secret: nil, unattributed: true), clickID: clickID, error: error.message)
        PostbackMetrics.count(Outcome.invalid.rawValue)
        throw error
    }

    /// `checkSecret` is false for the pixel (a page cannot keep a secret) and the tester. The
    /// statements of this path are prepared: planning them cost more than running them.
    public func record(_ input: PostbackInput, raw: Raw, checkSecret: Bool = true) throws -> Result {
        try database.transaction { c in try record(input, raw: raw, checkSecret: checkSecret, on: c) }
    }

    public func record(_ input: PostbackInput, raw: Raw, checkSecret: Bool, on c: PostgresConnection, attachingPostback: Int64? = nil)
        throws -> Result
    {
        guard let click = try clicks.forConversion(input.clickID, on: c) else { return try unattributed(input, raw: raw, on: c) }
        if checkSecret, let refused = try refusal(input, raw: raw, click: click, on: c) { return refused }
        var input = input
        // No payout in the postback: the click's offer's, in the offer's currency (SPEC §9).
        if !input.hasPayout, let payout = click.offerPayout, let currency = click.offerCurrency {
            input.payout = payout
            input.currency = currency
        }
        let currency = input.currency ?? click.campaignCurrency
        try events.ensure(on: c, workspaceID: click.workspaceID, key: input.event)
        let (outcome, conversionID, previousStatus) = try upsert(input, click: click, currency: currency, on: c)
        if outcome != .duplicate {
            try outbox.enqueue(
                on: c, conversionID: conversionID, click: click, input: input, currency: currency, previousStatus: previousStatus)
        }
        let id: Int64
        if let attachingPostback {
            try postbacks.markAttached(on: c, id: attachingPostback, click: click, conversionID: conversionID)
            id = attachingPostback
        } else {
            id = try postbacks.insert(
                on: c, raw.kept(secret: input.secret, unattributed: false), input, outcome: outcome, workspaceID: click.workspaceID,
                conversionID: conversionID, error: nil)
        }
        return Result(outcome: outcome, conversionID: conversionID, postbackID: id)
    }

    /// A postback naming no known click: kept (its first bytes), within the address's limit.
    private func unattributed(_ input: PostbackInput, raw: Raw, on c: PostgresConnection) throws -> Result {
        guard unattributedLimit.allow(raw.sourceIP) else {
            throw HTTPError.tooManyRequests("too many postbacks for unknown clicks from this address; slow down")
        }
        let id = try postbacks.insert(
            on: c, raw.kept(secret: input.secret, unattributed: true), input, outcome: .unattributed, workspaceID: nil, conversionID: nil,
            error: nil)
        return Result(outcome: .unattributed, conversionID: nil, postbackID: id)
    }

    /// The forbidden result when the workspace has a secret and the postback lacks it or has
    /// another; the attempt is logged (and committed).
    private func refusal(_ input: PostbackInput, raw: Raw, click: ClickForConversion, on c: PostgresConnection) throws -> Result? {
        guard let expected = click.workspaceSecret, !expected.isEmpty else { return nil }
        if let given = input.secret, ConstantTime.equal(given, expected) { return nil }
        let id = try postbacks.insert(
            on: c, raw.kept(secret: input.secret, unattributed: false), input, outcome: .forbidden, workspaceID: click.workspaceID,
            conversionID: nil, error: input.secret == nil ? "missing secret" : "wrong secret")
        let why = input.secret == nil ? "missing" : "wrong"
        logger.warning("postback \(id) for click \(click.id) refused: \(why) workspace secret from \(raw.sourceIP)")
        return Result(outcome: .forbidden, conversionID: nil, postbackID: id)
    }

    /// Inserts the conversion of the click's key, or compares with the stored one: the same
    /// fields are a duplicate, others update it.
    private func upsert(_ input: PostbackInput, click: ClickForConversion, currency: String, on c: PostgresConnection) throws -> (
        Outcome, Int64, previousStatus: String?
    ) {
        if let id = try conversions.insert(on: c, click: click, input: input, currency: currency) { return (.recorded, id, nil) }
        let stored = try conversions.existing(on: c, clickID: click.id, input: input)
        let same =
            stored.status == input.status.rawValue && stored.samePayout && stored.currency == currency && stored.event == input.event
        if same { return (.duplicate, stored.id, nil) }
        try conversions.update(on: c, id: stored.id, input: input, currency: currency)
        return (.updated, stored.id, stored.status)
    }

    /// Attaches an unattributed postback to a click once it is known: the stored fields are
    /// recorded as if the postback had named that click.
    /// Only those who can list unattributed postbacks (who see every workspace) may attach one.
    public func attach(postbackID: Int64, clickID: String, by actor: Actor) throws -> Result {
        try actor.requireAdmin()
        return try database.transaction { c in
            guard let stored = try postbacks.unattributedPairs(on: c, id: postbackID) else {
                throw HTTPError.notFound("no unattributed postback \(postbackID)")
            }
            guard let click = try clicks.forConversion(clickID, on: c) else {
                throw HTTPError.validation(["click_id": "no click has this id"])
            }
            try actor.requireEditable(workspace: click.workspaceID)
            let input = try PostbackInput([("clickid", clickID)] + stored)
            let result = try record(
                input, raw: Raw(channel: "attach", method: "", query: "", body: "", contentType: "", sourceIP: ""),
                checkSecret: false, on: c, attachingPostback: postbackID)
            try AuditLog.record(
                c, actor: actor, action: "attach", objectType: "postback", objectID: postbackID, workspaceID: click.workspaceID,
                new: ["click_id": clickID, "conversion_id": String(result.conversionID ?? 0)])
            return result
        }
    }
}
