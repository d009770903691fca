import Foundation
import Postgres

/// The audit log's only writer (`AuditLog.record`, inside each change's transaction) and its
/// reader (the `/audit` page).
public struct AuditLogStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// Entries newest first, optionally for one object type (and id).
    public func entries(objectType: String?, objectID: String?, limit: Int = 200) throws -> [AuditLog.Entry] {
        try database.query(
            """
            SELECT id, at, actor, via, action, object_type, object_id, old_values::text AS old, new_values::text AS new
            FROM audit_log
            WHERE (\(objectType)::text IS NULL OR object_type = \(objectType)) AND (\(objectID)::text IS NULL OR object_id = \(objectID))
            ORDER BY at DESC, id DESC LIMIT \(limit)
            """
        ).map { row in
            AuditLog.Entry(
                id: try row.decode("id"), at: try row.decode("at"), actor: try row.decode("actor"), via: try row.decode("via"),
                action: try row.decode("action"), objectType: try row.decode("object_type"), objectID: try row.decode("object_id"),
                old: row["old"], new: row["new"])
        }
    }

    /// One entry, on the change's own connection (values as JSON text).
    static func insert(
        _ c: PostgresConnection, actor: Actor, action: String, objectType: String, objectID: String, workspaceID: Int64?,
        old: String?, new: String?
    ) throws {
        try c.query(
            """
            INSERT INTO audit_log (user_id, actor, via, action, object_type, object_id, workspace_id, old_values, new_values)
            VALUES (\(actor.userID), \(actor.auditLabel), \(actor.channel.rawValue), \(action), \(objectType), \(objectID),
                    \(workspaceID), \(old)::jsonb, \(new)::jsonb)
            """)
    }
}
