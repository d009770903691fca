import Foundation
import Postgres
import WaymarkCore
import Web

/// The outbox as the pages read it (a click's deliveries, the failed ones, the queues) and
/// the Retry of a failed delivery (audited).
public struct DeliveryStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// A click's deliveries, oldest first.
    public func forClick(_ clickID: String) throws -> [DeliveryRow] {
        try list(condition: "d.click_id = \(clickID)", order: "d.id", limit: 200)
    }

    /// The failed deliveries the actor sees, the latest first.
    public func failed(for actor: Actor, limit: Int = 100) throws -> [DeliveryRow] {
        try list(
            condition: "d.state = 'failed' AND \(fragment: actor.visibleWorkspaces("d.workspace_id"))", order: "d.updated_at DESC",
            limit: limit)
    }

    /// How many deliveries the actor sees, by kind and state.
    public func counts(for actor: Actor) throws -> [(kind: String, state: String, count: String)] {
        try database.query(
            """
            SELECT kind, state, count(*) AS n FROM deliveries WHERE \(fragment: actor.visibleWorkspaces("workspace_id"))
            GROUP BY kind, state ORDER BY kind, state
            """
        ).map { ($0["kind"] ?? "", $0["state"] ?? "", $0["n"] ?? "") }
    }

    /// Queues a failed delivery the actor may edit for one more try; 404 when there is none.
    public func retry(_ id: Int64, by actor: Actor) throws {
        guard let row = try database.query("SELECT workspace_id FROM deliveries WHERE id = \(id)").first else {
            throw HTTPError.notFound("no delivery \(id)")
        }
        let workspaceID = try row.decode("workspace_id", as: Int64?.self)
        try actor.requireEditable(workspace: workspaceID)
        try database.transaction { c in
            try OutboxStore().requeue(on: c, id: id)
            try AuditLog.record(c, actor: actor, action: "retry", objectType: "delivery", objectID: id, workspaceID: workspaceID)
        }
    }

    private func list(condition: PostgresQuery, order: String, limit: Int) throws -> [DeliveryRow] {
        let rows = try database.query(
            """
            SELECT d.id, d.kind, d.target_name, d.method, d.url, d.state, d.attempts, d.max_attempts,
                   coalesce(d.last_error, '') AS last_error,
                   d.next_attempt_at, d.created_at, coalesce(d.click_id, '') AS click_id,
                   coalesce((SELECT json_agg(json_build_object('at', a.attempted_at, 'status', a.http_status, 'answer', a.response_excerpt,
                                     'error', a.error, 'ms', a.duration_ms) ORDER BY a.id)
                             FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]')::text AS tries
            FROM deliveries d WHERE \(fragment: condition) ORDER BY \(unescaped: order) LIMIT \(limit)
            """)
        return try rows.map { r in
            DeliveryRow(
                id: try r.decode("id"), kind: try r.decode("kind"), targetName: try r.decode("target_name"), method: try r.decode("method"),
                url: try r.decode("url"), state: try r.decode("state"), attempts: try r.decode("attempts"),
                maxAttempts: try r.decode("max_attempts"), lastError: try r.decode("last_error"),
                nextAttemptAt: try r.decode("next_attempt_at"), createdAt: try r.decode("created_at"), clickID: try r.decode("click_id"),
                tries: (try? JSONDecoder().decode([DeliveryRow.Try].self, from: Data((r["tries"] ?? "[]").utf8))) ?? [])
        }
    }
}
