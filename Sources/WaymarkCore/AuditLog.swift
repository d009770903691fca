import Foundation
import Postgres

/// Every change made through a page or the API: who, when, which object, old and new values.
/// Written in the same transaction as the change, so the log and the data cannot disagree.
public enum AuditLog {
    public static func record(
        _ c: PostgresConnection, actor: Actor, action: String, objectType: String, objectID: some CustomStringConvertible,
        workspaceID: Int64? = nil, old: [String: Any]? = nil, new: [String: Any]? = nil
    ) throws {
        try c.query(
            """
            INSERT INTO audit_log (user_id, actor, via, action, object_type, object_id, workspace_id, old_values, new_values)
            VALUES (\(actor.userID), \(actor.auditLabel), \(actor.channel.rawValue), \(action), \(objectType), \(objectID.description),
                    \(workspaceID), \(json(old))::jsonb, \(json(new))::jsonb)
            """)
    }

    public static func json(_ values: [String: Any]?) -> String? {
        guard let values else { return nil }
        let clean = values.mapValues { $0 is NSNull ? NSNull() : $0 }
        guard let data = try? JSONSerialization.data(withJSONObject: clean, options: [.sortedKeys]) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    public struct Entry: Sendable {
        public var id: Int64
        public var at: Date
        public var actor: String
        public var via: String
        public var action: String
        public var objectType: String
        public var objectID: String
        public var old: String?
        public var new: String?
    }

    /// Entries newest first, optionally for one object type (and id).
    public static func entries(_ database: PostgresPool, objectType: String?, objectID: String?, limit: Int = 200) throws -> [Entry] {
        try database.query(
            """
            SELECT id, at, actor, via, action, object_type, object_id, old_values::text AS old, new_values::text AS new
            FROM audit_log
            WHERE (\(objectType)::text IS NULL OR object_type = \(objectType)) AND (\(objectID)::text IS NULL OR object_id = \(objectID))
            ORDER BY at DESC, id DESC LIMIT \(limit)
            """
        ).map { row in
            Entry(
                id: try row.decode("id"), at: try row.decode("at"), actor: try row.decode("actor"), via: try row.decode("via"),
                action: try row.decode("action"), objectType: try row.decode("object_type"), objectID: try row.decode("object_id"),
                old: row["old"], new: row["new"])
        }
    }
}
