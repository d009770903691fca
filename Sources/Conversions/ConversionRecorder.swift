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

    /// What arrived, as received (for the ledger).
    public struct Raw: Sendable {
        public var channel: String
        public var method: String
        public var query: String
        public var body: String
        public var contentType: String
        public var sourceIP: String

        public init(channel: String, method: String, query: String, body: String, contentType: String, sourceIP: String) {
            self.channel = channel
            self.method = method
            self.query = query
            self.body = body
            self.contentType = contentType
            self.sourceIP = sourceIP
        }

        public init(_ request: Request, channel: String) {
            self.init(
                channel: channel, method: request.method, query: Raw.prefix(request.rawQuery, bytes: 65_536),
                body: Raw.prefix(request.bodyText, bytes: 65_536),
                contentType: Raw.prefix(request.header("content-type") ?? "", bytes: 200),
                sourceIP: request.remoteAddress)
        }

        /// What the ledger keeps: the postback's secret never (its value replaced wherever it
        /// appears), and of a postback that names no known click (anyone can send those) only
        /// the first `unattributedBytes` of its query and body.
        public func kept(secret: String?, unattributed: Bool) -> Raw {
            var raw = self
            if let secret, !secret.isEmpty {
                let hidden = "[redacted]"
                raw.query = raw.query.replacingOccurrences(of: URLEncoding.encode(secret), with: hidden).replacingOccurrences(
                    of: secret, with: hidden)
                raw.body = raw.body.replacingOccurrences(of: URLEncoding.encode(secret), with: hidden).replacingOccurrences(
                    of: secret, with: hidden)
            }
            if unattributed {
                raw.query = Raw.prefix(raw.query, bytes: Raw.unattributedBytes)
                raw.body = Raw.prefix(raw.body, bytes: Raw.unattributedBytes)
            }
            return raw
        }

        public static let unattributedBytes = 2048

        /// At most `bytes` of UTF-8, cut at a character boundary.
        public static func prefix(_ s: String, bytes: Int) -> String {
            guard s.utf8.count > bytes else { return s }
            let utf8 = Array(s.utf8)
            var end = bytes
            while end > 0, utf8[end] & 0xC0 == 0x80 { end -= 1 }  // not inside a character
            return String(decoding: utf8[..<end], as: UTF8.self)
        }
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

    public init(database: PostgresPool, outbox: any ConversionOutbox, logger: Logger, unattributedLimit: AddressRateLimiter) {
        self.database = database
        self.outbox = outbox
        self.logger = logger
        self.unattributedLimit = unattributedLimit
    }

    /// A bad postback is kept in the ledger too, then its 400 is thrown.
    public func reject(_ raw: Raw, error: HTTPError, clickID: String?) throws -> Never {
        guard unattributedLimit.allow(raw.sourceIP) else {
            throw HTTPError.tooManyRequests("too many bad postbacks from this address; slow down")
        }
        let raw = raw.kept(secret: nil, unattributed: true)
        _ = try? database.query(
            """
            INSERT INTO postbacks (channel, method, query, body, content_type, source_ip, click_id, outcome, error)
            VALUES (\(raw.channel), \(raw.method), \(raw.query), \(raw.body), \(raw.contentType), \(raw.sourceIP), \(clickID), 'invalid', \(error.message))
            """)
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
        guard let click = try ClickLookup.find(input.clickID, on: c) else {
            guard unattributedLimit.allow(raw.sourceIP) else {
                throw HTTPError.tooManyRequests("too many postbacks for unknown clicks from this address; slow down")
            }
            let id = try ledger(
                c, raw.kept(secret: input.secret, unattributed: true), input, outcome: .unattributed, workspaceID: nil, conversionID: nil,
                error: nil)
            return Result(outcome: .unattributed, conversionID: nil, postbackID: id)
        }
        if checkSecret, let expected = click.workspaceSecret, !expected.isEmpty {
            guard let given = input.secret, ConstantTime.equal(given, expected) else {
                let id = try ledger(
                    c, raw.kept(secret: input.secret, unattributed: false), input, outcome: .forbidden, workspaceID: click.workspaceID,
                    conversionID: nil,
                    error: input.secret == nil ? "missing secret" : "wrong secret")
                logger.warning(
                    "postback \(id) for click \(click.id) refused: \(input.secret == nil ? "missing" : "wrong") workspace secret from \(raw.sourceIP)"
                )
                return Result(outcome: .forbidden, conversionID: nil, postbackID: id)  // committed: the attempt stays logged
            }
        }
        let currency = input.currency ?? click.campaignCurrency
        try c.query(
            """
            INSERT INTO conversion_events (workspace_id, key, name) VALUES (\(click.workspaceID), \(input.event), \(input.event))
            ON CONFLICT (coalesce(workspace_id, 0), key) DO NOTHING
            """, prepared: true)
        var outcome = Outcome.recorded
        var previousStatus: String?
        var conversionID: Int64
        if let row = try c.query(
            """
            INSERT INTO conversions (workspace_id, click_id, clicked_at, campaign_id, traffic_source_id, event_key, txid, dedupe_key,
                                     status, payout, currency)
            VALUES (\(click.workspaceID), \(click.id), \(click.clickedAt), \(click.campaignID), \(click.trafficSourceID), \(input.event),
                    \(input.txid), \(input.dedupeKey), \(input.status.rawValue), \(input.payout)::numeric, \(currency))
            ON CONFLICT (click_id, dedupe_key) DO NOTHING
            RETURNING id
            """, prepared: true
        ).first {
            conversionID = try row.decode("id")
        } else {
            // Same key again (perhaps concurrently: the insert above waited for the other commit).
            let row = try c.query(
                """
                SELECT id, status, payout = \(input.payout)::numeric AS same_payout, currency, event_key
                FROM conversions WHERE click_id = \(click.id) AND dedupe_key = \(input.dedupeKey) FOR UPDATE
                """)[0]
            conversionID = try row.decode("id")
            let status: String = try row.decode("status")
            let samePayout: Bool = try row.decode("same_payout")
            let sameCurrency = try row.decode("currency", as: String.self) == currency
            let sameEvent = try row.decode("event_key", as: String.self) == input.event
            let same = status == input.status.rawValue && samePayout && sameCurrency && sameEvent
            if same {
                outcome = .duplicate
            } else {
                outcome = .updated
                previousStatus = status
                try c.query(
                    """
                    UPDATE conversions SET status = \(input.status.rawValue), payout = \(input.payout)::numeric, currency = \(currency),
                      event_key = \(input.event), updated_at = now()
                    WHERE id = \(conversionID)
                    """)
            }
        }
        if outcome != .duplicate {
            try outbox.enqueue(
                on: c, conversionID: conversionID, click: click, input: input, currency: currency, previousStatus: previousStatus)
        }
        let ledgerOutcome = attachingPostback == nil ? outcome : .attached
        let id: Int64
        if let attachingPostback {
            try c.query(
                """
                UPDATE postbacks SET outcome = 'attached', click_id = \(click.id), workspace_id = \(click.workspaceID), conversion_id = \(conversionID)
                WHERE id = \(attachingPostback)
                """)
            id = attachingPostback
        } else {
            id = try ledger(
                c, raw.kept(secret: input.secret, unattributed: false), input, outcome: ledgerOutcome, workspaceID: click.workspaceID,
                conversionID: conversionID, error: nil)
        }
        return Result(outcome: outcome, conversionID: conversionID, postbackID: id)
    }

    /// Attaches an unattributed postback to a click once it is known: the stored fields are
    /// recorded as if the postback had named that click.
    /// Only those who can list unattributed postbacks (who see every workspace) may attach one.
    public func attach(postbackID: Int64, clickID: String, by actor: Actor) throws -> Result {
        try actor.requireAdmin()
        return try database.transaction { c in
            guard
                let row = try c.query(
                    """
                    SELECT event_key, txid, status, payout::text AS payout, currency FROM postbacks
                    WHERE id = \(postbackID) AND outcome = 'unattributed' FOR UPDATE
                    """
                ).first
            else { throw HTTPError.notFound("no unattributed postback \(postbackID)") }
            guard let click = try ClickLookup.find(clickID, on: c) else {
                throw HTTPError.validation(["click_id": "no click has this id"])
            }
            try actor.requireEditable(workspace: click.workspaceID)
            var pairs: [(String, String)] = [("clickid", clickID)]
            for name in ["event_key", "txid", "status", "payout", "currency"] {
                if let v = row[name] { pairs.append((name == "event_key" ? "event" : name, v)) }
            }
            let input = try PostbackInput(pairs)
            let result = try record(
                input, raw: Raw(channel: "attach", method: "", query: "", body: "", contentType: "", sourceIP: ""),
                checkSecret: false, on: c, attachingPostback: postbackID)
            try AuditLog.record(
                c, actor: actor, action: "attach", objectType: "postback", objectID: postbackID, workspaceID: click.workspaceID,
                new: ["click_id": clickID, "conversion_id": String(result.conversionID ?? 0)])
            return result
        }
    }

    private func ledger(
        _ c: PostgresConnection, _ raw: Raw, _ input: PostbackInput, outcome: Outcome, workspaceID: Int64?, conversionID: Int64?,
        error: String?
    ) throws -> Int64 {
        try c.query(
            """
            INSERT INTO postbacks (channel, method, query, body, content_type, source_ip, click_id, workspace_id, event_key, txid, status,
                                   payout, currency, outcome, error, conversion_id)
            VALUES (\(raw.channel), \(raw.method), \(raw.query), \(raw.body), \(raw.contentType), \(raw.sourceIP),
                    \(input.clickID.isEmpty ? nil : input.clickID), \(workspaceID), \(input.event), \(input.txid), \(input.status.rawValue),
                    \(input.payout)::numeric, \(input.currency), \(outcome.rawValue), \(error), \(conversionID))
            RETURNING id
            """, prepared: true)[0].decode("id")
    }
}

/// Comparison whose time does not depend on where two strings differ.
public enum ConstantTime {
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }
}
