import Foundation
import Postgres

/// The outbox's rows (`deliveries`) and their tries (`delivery_attempts`), always in the
/// caller's transaction: the Outbox queues rows, the sender claims and settles them, a retry
/// queues a failed one again, Integrations' resume sends held pushes now. The only writer of both tables.
public struct OutboxStore: Sendable {
    public init() {}

    /// A row to queue, rendered already.
    struct NewDelivery: Sendable {
        var workspaceID: Int64?
        var conversionID: Int64
        var clickID: String
        var kind: String
        var targetID: Int64
        var targetName: String
        var method: String
        var url: String
        var headers: [String: String]
        var body: String?
        var maxAttempts: Int
        /// Why a push the provider would refuse (too old, no click id) is kept but not sent.
        var skipped: String?
    }

    /// A row due now, claimed by the sender.
    struct Due: Sendable {
        var id: Int64
        var kind: String
        var targetID: Int64?
        var method: String
        var url: String
        var headers: [String: String]
        var body: String?
        var attempts: Int
        var maxAttempts: Int
    }

    /// One try as the sender made it.
    struct Try: Sendable {
        var milliseconds: Int
        var httpStatus: Int?
        var excerpt: String?
        var error: String?
        var workerID: String
    }

    func enqueue(on c: PostgresConnection, _ d: NewDelivery) throws {
        let headerJSON = String(decoding: try JSONSerialization.data(withJSONObject: d.headers, options: [.sortedKeys]), as: UTF8.self)
        try c.query(
            """
            INSERT INTO deliveries (workspace_id, conversion_id, click_id, kind, target_id, target_name, method, url, headers, body,
                                    max_attempts, state, last_error)
            VALUES (\(d.workspaceID), \(d.conversionID), \(d.clickID), \(d.kind), \(d.targetID), \(d.targetName), \(d.method), \(d.url),
                    \(headerJSON)::jsonb, \(d.body), \(d.maxAttempts), \(d.skipped == nil ? "pending" : "skipped"), \(d.skipped))
            """)
    }

    /// Whether the conversion's S2S postback was sent (or is on its way) already.
    func postbackSent(on c: PostgresConnection, conversionID: Int64) throws -> Bool {
        try c.query(
            """
            SELECT EXISTS (
              SELECT 1 FROM deliveries WHERE conversion_id = \(conversionID) AND kind = 'postback' AND state <> 'failed'
            ) AS sent
            """)[0].decode("sent")
    }

    /// The next due row, locked (`SKIP LOCKED`: several workers never send the same row at once).
    func claimNext(on c: PostgresConnection) throws -> Due? {
        guard
            let row = try c.query(
                """
                SELECT id, kind, target_id, method, url, headers::text AS headers, body, attempts, max_attempts FROM deliveries
                WHERE state = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
                """
            ).first
        else { return nil }
        let headers = (try? JSONSerialization.jsonObject(with: Data((row["headers"] ?? "{}").utf8)) as? [String: String]) ?? [:]
        return Due(
            id: try row.decode("id"), kind: row["kind"] ?? "", targetID: row["target_id"].flatMap { Int64($0) },
            method: try row.decode("method"), url: try row.decode("url"), headers: headers, body: row["body"],
            attempts: try row.decode("attempts"), maxAttempts: try row.decode("max_attempts"))
    }

    /// Not now and not a try (a paused integration): look again in a minute.
    func hold(on c: PostgresConnection, id: Int64, reason: String) throws {
        try c.query(
            """
            UPDATE deliveries SET last_error = \(reason), next_attempt_at = now() + interval '1 minute', updated_at = now()
            WHERE id = \(id)
            """
        )
    }

    /// Failed without a try (the integration is gone).
    func fail(on c: PostgresConnection, id: Int64, reason: String) throws {
        try c.query("UPDATE deliveries SET state = 'failed', last_error = \(reason), updated_at = now() WHERE id = \(id)")
    }

    /// Records try number `attempt` and the row's next state.
    func settle(on c: PostgresConnection, id: Int64, attempt: Int, try t: Try, action: DeliveryRetryPolicy.Action) throws {
        try c.query(
            """
            INSERT INTO delivery_attempts (delivery_id, duration_ms, http_status, response_excerpt, error, worker_id)
            VALUES (\(id), \(t.milliseconds), \(t.httpStatus), \(t.excerpt), \(t.error), \(t.workerID))
            """)
        switch action {
        case .markDelivered:
            try c.query(
                """
                UPDATE deliveries
                SET state = 'delivered', attempts = \(attempt), delivered_at = now(), last_error = NULL, updated_at = now()
                WHERE id = \(id)
                """)
        case .retry(afterSeconds: let delay, error: let error):
            try c.query(
                """
                UPDATE deliveries SET attempts = \(attempt), last_error = \(error),
                  next_attempt_at = now() + make_interval(secs => \(delay)), updated_at = now()
                WHERE id = \(id)
                """)
        case .giveUp(let error):
            try c.query(
                """
                UPDATE deliveries SET state = 'failed', attempts = \(attempt), last_error = \(error), updated_at = now() WHERE id = \(id)
                """)
        }
    }

    /// A failed row queued again, for one more try.
    func requeue(on c: PostgresConnection, id: Int64) throws {
        try c.query(
            """
            UPDATE deliveries SET state = 'pending', next_attempt_at = now(), max_attempts = attempts + 1, updated_at = now()
            WHERE id = \(id) AND state = 'failed'
            """)
    }

    /// The pending pushes to one integration due now (after a resume), and the sender woken:
    /// only their due time changes, the sender does the rest.
    public func sendPendingPushesNow(integrationID id: Int64, on c: PostgresConnection) throws {
        try c.query("UPDATE deliveries SET next_attempt_at = now() WHERE kind = 'capi' AND target_id = \(id) AND state = 'pending'")
        try c.query("SELECT pg_notify('waymark_deliveries', '')")
    }
}
