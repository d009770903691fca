import Accounts
import Conversions
import Foundation
import Integrations
import Postgres
import Spend
import Tracking
import WaymarkCore
import Web

struct DeliveryRow {
    var id: Int64
    var kind: String
    var targetName: String
    var method: String
    var url: String
    var state: String
    var attempts: Int
    var maxAttempts: Int
    var lastError: String
    var nextAttemptAt: Date
    var createdAt: Date
    var clickID: String
    var tries: [[String: Any]]

    var page: [String: Any] {
        [
            "id": id, "kind": kind, "target": targetName, "method": method, "url": url, "state": state, "attempts": attempts,
            "max_attempts": maxAttempts, "last_error": lastError, "next_attempt_at": RFC3339.string(from: nextAttemptAt),
            "created_at": RFC3339.string(from: createdAt), "click_id": clickID, "click_href": "/clicks/" + URLEncoding.encode(clickID),
            "tries": tries, "failed": state == "failed", "pending": state == "pending",
        ]
    }
}

enum DeliveryQueries {
    static func forClick(_ database: PostgresPool, clickID: String) throws -> [DeliveryRow] {
        try list(database, condition: "d.click_id = \(clickID)", order: "d.id", limit: 200)
    }

    static func list(_ database: PostgresPool, condition: PostgresQuery, order: String, limit: Int) throws -> [DeliveryRow] {
        let rows = try database.query(
            """
            SELECT d.id, d.kind, d.target_name, d.method, d.url, d.state, d.attempts, d.max_attempts, coalesce(d.last_error, '') AS last_error,
                   d.next_attempt_at, d.created_at, coalesce(d.click_id, '') AS click_id,
                   coalesce((SELECT json_agg(json_build_object('at', a.attempted_at, 'status', a.http_status, 'answer', a.response_excerpt,
                                     'error', a.error, 'ms', a.duration_ms) ORDER BY a.id)
                             FROM delivery_attempts a WHERE a.delivery_id = d.id), '[]')::text AS tries
            FROM deliveries d WHERE \(fragment: condition) ORDER BY \(unescaped: order) LIMIT \(limit)
            """)
        return try rows.map { r in
            let tries = (try? JSONSerialization.jsonObject(with: Data((r["tries"] ?? "[]").utf8)) as? [[String: Any]]) ?? []
            return DeliveryRow(
                id: try r.decode("id"), kind: try r.decode("kind"), targetName: try r.decode("target_name"), method: try r.decode("method"),
                url: try r.decode("url"), state: try r.decode("state"), attempts: try r.decode("attempts"),
                maxAttempts: try r.decode("max_attempts"),
                lastError: try r.decode("last_error"), nextAttemptAt: try r.decode("next_attempt_at"),
                createdAt: try r.decode("created_at"),
                clickID: try r.decode("click_id"),
                tries: tries.map { t in
                    // JSON nulls become empty text: the page shows a blank, not "<null>".
                    [
                        "at": t["at"] as? String ?? "", "status": (t["status"] as? Int).map(String.init) ?? "",
                        "answer": t["answer"] as? String ?? "",
                        "error": t["error"] as? String ?? "", "ms": (t["ms"] as? Int).map(String.init) ?? "",
                    ]
                })
        }
    }
}

/// The Status page (worker heartbeat, database, click spool, delivery queues, failed
/// deliveries with Retry) and the workspace webhooks page.
struct DeliveryRoutes {
    let shell: AdminShell
    let database: PostgresPool
    let spool: ClickSpool
    let workspaces: WorkspaceStore
    let integrations: IntegrationStore
    let feeds: SpendFeedStore

    func register(on router: Router) {
        router.get("/status", shell.page(statusPage))
        router.post(
            "/deliveries/{id}/retry",
            shell.page { request, actor in
                let id = try request.pathID()
                guard let row = try database.query("SELECT workspace_id, click_id FROM deliveries WHERE id = \(id)").first else {
                    throw HTTPError.notFound("no delivery \(id)")
                }
                let workspaceID = try row.decode("workspace_id", as: Int64?.self)
                try actor.requireEditable(workspace: workspaceID)
                try database.transaction { c in
                    try c.query(
                        """
                        UPDATE deliveries SET state = 'pending', next_attempt_at = now(), max_attempts = attempts + 1, updated_at = now()
                        WHERE id = \(id) AND state = 'failed'
                        """)
                    try AuditLog.record(c, actor: actor, action: "retry", objectType: "delivery", objectID: id, workspaceID: workspaceID)
                }
                let back = AdminShell.localPath(FormState(fields: try request.form()).value("back").nilIfEmpty ?? "/status")
                return AdminShell.redirect(to: back, flash: "Delivery \(id) queued again.")
            })
        router.get("/webhooks", shell.page(webhooksPage))
        router.post("/webhooks", shell.page(createWebhook))
        router.post(
            "/webhooks/{id}/delete",
            shell.page { request, actor in
                let id = try request.pathID()
                guard let row = try database.query("SELECT workspace_id FROM webhooks WHERE id = \(id)").first else {
                    throw HTTPError.notFound("no webhook \(id)")
                }
                let workspaceID: Int64 = try row.decode("workspace_id")
                try actor.requireEditable(workspace: workspaceID)
                try database.transaction { c in
                    try c.query("DELETE FROM webhooks WHERE id = \(id)")
                    try AuditLog.record(c, actor: actor, action: "delete", objectType: "webhook", objectID: id, workspaceID: workspaceID)
                }
                return AdminShell.redirect(to: "/webhooks", flash: "Webhook deleted.")
            })
    }

    private func statusPage(_ request: Request, _ actor: Actor) throws -> Response {
        let visible = actor.visibleWorkspaces("workspace_id")
        let workers = try database.query(
            """
            SELECT worker_id, hostname, pid, started_at, beat_at, now() - beat_at < interval '30 seconds' AS alive FROM worker_heartbeats ORDER BY worker_id
            """)
        let queues = try database.query(
            """
            SELECT kind, state, count(*) AS n FROM deliveries WHERE \(fragment: visible) GROUP BY kind, state ORDER BY kind, state
            """)
        let failed = try DeliveryQueries.list(
            database, condition: "d.state = 'failed' AND \(fragment: actor.visibleWorkspaces("d.workspace_id"))",
            order: "d.updated_at DESC", limit: 100)
        let database = (try? self.database.query("SELECT version() AS v, pg_database_size(current_database()) AS size").first)
        return try shell.render(
            request, actor: actor, template: "status/index", title: "Status",
            context: [
                "workers": try workers.map { r in
                    [
                        "id": r["worker_id"] ?? "", "host": r["hostname"] ?? "", "pid": r["pid"] ?? "",
                        "beat_at": RFC3339.string(from: try r.decode("beat_at")),
                        "alive": try r.decode("alive", as: Bool.self),
                    ] as [String: Any]
                },
                "no_worker": workers.count == 0,
                "database_version": database?["v"] ?? "unreachable",
                "database_mb": database.flatMap { $0["size"] }.flatMap(Double.init).map { String(format: "%.1f", $0 / 1_048_576) } ?? "",
                "spool_bytes": spool.pendingBytes,
                "queues": queues.map { ["kind": $0["kind"] ?? "", "state": $0["state"] ?? "", "count": $0["n"] ?? ""] },
                "failed": failed.map(\.page),
                "can_retry": actor.canWrite,
                "feeds": try feeds.failing(for: actor),
                "integrations": try integrations.all(for: actor).map { entry in
                    let i = entry.integration
                    return [
                        "source": entry.sourceName, "source_id": i.sourceID,
                        "provider": integrations.providers[i.provider]?.name ?? i.provider,
                        "key": i.provider, "status": i.status.rawValue, "reconnect": i.status == .error,
                        "account": i.accountName ?? "", "last_success": i.lastSuccessAt.map(RFC3339.string) ?? "never",
                        "failures": i.consecutiveFailures, "last_error": i.lastError ?? "",
                    ] as [String: Any]
                },
            ], section: "status")
    }

    private func webhooksPage(_ request: Request, _ actor: Actor) throws -> Response {
        let rows = try database.query(
            """
            SELECT h.id, h.url, h.secret, h.enabled, h.workspace_id, w.name AS workspace FROM webhooks h JOIN workspaces w ON w.id = h.workspace_id
            WHERE \(fragment: actor.visibleWorkspaces("h.workspace_id")) ORDER BY w.name, h.id
            """)
        return try shell.render(
            request, actor: actor, template: "deliveries/webhooks", title: "Webhooks",
            context: [
                "webhooks": try rows.map { r in
                    let editable = actor.canEdit(workspace: try r.decode("workspace_id", as: Int64.self))
                    var item: [String: Any] = [
                        "id": r["id"] ?? "", "url": r["url"] ?? "", "workspace": r["workspace"] ?? "",
                        "enabled": try r.decode("enabled", as: Bool.self), "editable": editable,
                    ]
                    if editable { item["secret"] = r["secret"] ?? "" }
                    return item
                },
                "workspaces": try workspaces.list(for: actor).filter { actor.canEdit(workspace: $0.id) }.map {
                    ["id": $0.id, "name": $0.name] as [String: Any]
                },
                "can_write": actor.canWrite,
            ], section: "status")
    }

    private func createWebhook(_ request: Request, _ actor: Actor) throws -> Response {
        let form = FormState(fields: try request.form())
        let url = form.value("url").trimmingCharacters(in: .whitespaces)
        guard let workspaceID = Int64(form.value("workspace_id")) else {
            return AdminShell.redirect(to: "/webhooks", flash: "Choose a workspace.")
        }
        try actor.requireEditable(workspace: workspaceID)
        guard URLCheck.isAbsoluteHTTP(url) else {
            return AdminShell.redirect(to: "/webhooks", flash: "The URL must be an absolute http(s) URL.")
        }
        let secret = RandomToken.base64URL(bytes: 24)
        try database.transaction { c in
            let id: Int64 = try c.query(
                "INSERT INTO webhooks (workspace_id, url, secret) VALUES (\(workspaceID), \(url), \(secret)) RETURNING id")[0].decode("id")
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "webhook", objectID: id, workspaceID: workspaceID, new: ["url": url])
        }
        return AdminShell.redirect(to: "/webhooks", flash: "Webhook added; its signing secret is shown in the list.")
    }
}
