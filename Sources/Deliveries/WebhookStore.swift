import Postgres
import WaymarkCore
import Web

/// The `webhooks` table: the webhooks page's list, additions and deletions (audited), and
/// the enabled hooks of a workspace as the Outbox queues a conversion for them.
public struct WebhookStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// The webhooks the actor sees, by workspace name and id.
    public func list(for actor: Actor) throws -> [Webhook] {
        try database.query(
            """
            SELECT h.id, h.url, h.secret, h.enabled, h.workspace_id, w.name AS workspace
            FROM webhooks h JOIN workspaces w ON w.id = h.workspace_id
            WHERE \(fragment: actor.visibleWorkspaces("h.workspace_id")) ORDER BY w.name, h.id
            """
        ).map { r in
            Webhook(
                id: try r.decode("id"), workspaceID: try r.decode("workspace_id"), workspaceName: r["workspace"] ?? "",
                url: r["url"] ?? "", secret: r["secret"] ?? "", enabled: try r.decode("enabled"))
        }
    }

    /// Adds a webhook with a new signing secret.
    public func create(workspaceID: Int64, url: String, by actor: Actor) throws {
        let secret = RandomToken.base64URL(bytes: 24)
        try database.transaction { c in
            let id: Int64 = try c.query(
                "INSERT INTO webhooks (workspace_id, url, secret) VALUES (\(workspaceID), \(url), \(secret)) RETURNING id")[0].decode("id")
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "webhook", objectID: id, workspaceID: workspaceID, new: ["url": url])
        }
    }

    /// Deletes a webhook the actor may edit; 404 when there is none.
    public func delete(_ id: Int64, by actor: Actor) throws {
        guard let row = try database.query("SELECT workspace_id FROM webhooks WHERE id = \(id)").first else {
            throw HTTPError.notFound("no webhook \(id)")
        }
        let workspaceID: Int64 = try row.decode("workspace_id")
        try actor.requireEditable(workspace: workspaceID)
        try database.transaction { c in
            try c.query("DELETE FROM webhooks WHERE id = \(id)")
            try AuditLog.record(c, actor: actor, action: "delete", objectType: "webhook", objectID: id, workspaceID: workspaceID)
        }
    }

    /// A workspace's enabled webhooks, in the caller's transaction.
    func enabled(on c: PostgresConnection, workspaceID: Int64?) throws -> [Webhook] {
        try c.query(
            "SELECT id, workspace_id, url, secret, enabled FROM webhooks WHERE workspace_id = \(workspaceID) AND enabled ORDER BY id",
            prepared: true
        ).map { r in
            Webhook(
                id: try r.decode("id"), workspaceID: try r.decode("workspace_id"), workspaceName: "", url: try r.decode("url"),
                secret: try r.decode("secret"), enabled: true)
        }
    }
}
