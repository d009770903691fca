import Foundation
import Postgres

/// Every change made through a page or the API: who, when, which object, old and new values.
/// Written in the same transaction as the change, so the log and the data cannot disagree.
public enum AuditLog {
    public static func record(
        _ c: PostgresConnection, actor: Actor, action: String, objectType: String, objectID: some CustomStringConvertible,
        workspaceID: Int64? = nil, old: [String: Any]? = nil, new: [String: Any]? = nil
    ) throws {
        try AuditLogStore.insert(
            c, actor: actor, action: action, objectType: objectType, objectID: objectID.description, workspaceID: workspaceID,
            old: json(old), new: json(new))
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
        try AuditLogStore(database: database).entries(objectType: objectType, objectID: objectID, limit: limit)
    }
}
