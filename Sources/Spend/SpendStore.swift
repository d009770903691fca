import Foundation
import Postgres
import WaymarkCore

/// Spend entries in PostgreSQL, the table's one writer: upserts by key in one transaction (all
/// or nothing), a feed's window replaced, an integration's pulled cost (SpendStore+Integration).
public struct SpendStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public struct Result: Sendable {
        public var created: Int
        public var replaced: Int
    }

    /// A spend feed's run: its entries of the window are replaced, in the same transaction.
    public struct FeedWindow: Sendable {
        public var feedID: Int64
        public var from: String
        public var to: String

        public init(feedID: Int64, from: String, to: String) {
            self.feedID = feedID
            self.from = from
            self.to = to
        }
    }

    /// Stores the entries (a repeated key in the batch: the last one wins) in chunks, calling
    /// `progress` with the rows done so far.
    public func store(_ entries: [SpendEntry], origin: String, by actor: Actor, feed: FeedWindow? = nil, progress: (Int) -> Void = { _ in })
        throws -> Result
    {
        var byKey: [String: SpendEntry] = [:]
        var order: [String] = []
        for e in entries {
            let key = "\(e.day)|\(e.sourceID)|\(e.campaignID ?? 0)|\(e.dimensionsJSON)"
            if byKey[key] == nil { order.append(key) }
            byKey[key] = e
        }
        let unique = order.map { byKey[$0]! }
        return try database.transaction { c in
            var result = Result(created: 0, replaced: 0)
            if let feed {
                try c.query(
                    "DELETE FROM spend_entries WHERE feed_id = \(feed.feedID) AND day BETWEEN \(feed.from)::date AND \(feed.to)::date")
            }
            var offset = 0
            while offset < unique.count {
                let chunk = Array(unique[offset..<min(unique.count, offset + 5000)])
                for created in try upsert(chunk, origin: origin, by: actor, feedID: feed?.feedID, on: c) {
                    if created { result.created += 1 } else { result.replaced += 1 }
                }
                offset += chunk.count
                progress(offset)
            }
            for w in Set(unique.map(\.workspaceID)) {
                try AuditLog.record(
                    c, actor: actor, action: "import", objectType: "spend", objectID: origin, workspaceID: w,
                    new: ["entries": unique.filter { $0.workspaceID == w }.count, "origin": origin])
            }
            return result
        }
    }

    /// One statement per chunk (arrays bound as parameters); whether each row was new.
    private func upsert(_ chunk: [SpendEntry], origin: String, by actor: Actor, feedID: Int64?, on c: PostgresConnection) throws
        -> [Bool]
    {
        try c.query(
            PostgresQuery(
                unescaped: """
                    INSERT INTO spend_entries (workspace_id, day, traffic_source_id, campaign_id, dimensions, amount, currency, origin,
                                               created_by, feed_id)
                    SELECT u.w, u.d, u.s, u.c, u.dim, u.a, u.cur, $8, $9, $10::bigint
                    FROM unnest($1::bigint[], $2::date[], $3::bigint[], $4::bigint[], $5::jsonb[], $6::numeric[], $7::text[])
                         AS u(w, d, s, c, dim, a, cur)
                    ON CONFLICT (day, traffic_source_id, coalesce(campaign_id, 0), dimensions)
                    DO UPDATE SET amount = excluded.amount, currency = excluded.currency, origin = excluded.origin,
                                  created_by = excluded.created_by, feed_id = excluded.feed_id, updated_at = now()
                    RETURNING (xmax = 0) AS created
                    """,
                binds: [
                    PostgresArrayLiteral.encode(chunk.map { $0.workspaceID.map(String.init) }),
                    PostgresArrayLiteral.encode(chunk.map(\.day)),
                    PostgresArrayLiteral.encode(chunk.map { String($0.sourceID) }),
                    PostgresArrayLiteral.encode(chunk.map { $0.campaignID.map(String.init) }),
                    PostgresArrayLiteral.encode(chunk.map(\.dimensionsJSON)), PostgresArrayLiteral.encode(chunk.map(\.amount)),
                    PostgresArrayLiteral.encode(chunk.map(\.currency)), origin, actor.auditLabel, feedID.map { String($0) },
                ])
        ).map { try $0.decode("created", as: Bool.self) }
    }
}
