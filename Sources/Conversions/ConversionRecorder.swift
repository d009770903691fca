import Foundation
import Logging
import Postgres
import WaymarkCore
import Web

/// Records postbacks (docs/tracking.md): alone in a transaction of its own, or a batch in the
/// caller's (ConversionRecorder+Batch, where the steps are).
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

    /// `checkSecret` is false for the pixel (a page cannot keep a secret) and the tester.
    public func record(_ input: PostbackInput, raw: Raw, checkSecret: Bool = true) throws -> Result {
        try database.transaction { c in try record([Item(input, raw: raw, checkSecret: checkSecret)], on: c)[0].get() }
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
            guard let click = try clicks.forConversions([clickID], on: c)[clickID] else {
                throw HTTPError.validation(["click_id": "no click has this id"])
            }
            try actor.requireEditable(workspace: click.workspaceID)
            let input = try PostbackInput([("clickid", clickID)] + stored)
            var item = Item(
                input, raw: Raw(channel: "attach", method: "", query: "", body: "", contentType: "", sourceIP: ""), checkSecret: false)
            item.attachingPostback = postbackID
            let result = try record([item], on: c)[0].get()
            try AuditLog.record(
                c, actor: actor, action: "attach", objectType: "postback", objectID: postbackID, workspaceID: click.workspaceID,
                new: ["click_id": clickID, "conversion_id": String(result.conversionID ?? 0)])
            return result
        }
    }
}
