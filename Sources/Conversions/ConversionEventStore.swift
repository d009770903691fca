import Postgres
import WaymarkCore
import Web

/// The `conversion_events` table: the events page's reads and changes (audited), and the
/// recorder's create-if-new. Its only writer.
public struct ConversionEventStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// The events the actor sees, by workspace name and key.
    public func list(for actor: Actor) throws -> [ConversionEvent] {
        try database.query(
            """
            SELECT e.id, e.workspace_id, coalesce(w.name, 'Public') AS workspace, e.key, e.name, e.counts_as_conversion, e.counts_as_revenue
            FROM conversion_events e LEFT JOIN workspaces w ON w.id = e.workspace_id
            WHERE \(fragment: actor.visibleWorkspaces("e.workspace_id")) ORDER BY workspace, e.key
            """
        ).map { r in
            ConversionEvent(
                id: try r.decode("id"), workspaceID: try r.decode("workspace_id", as: Int64?.self), workspaceName: r["workspace"] ?? "",
                key: r["key"] ?? "", name: r["name"] ?? "", countsAsConversion: try r.decode("counts_as_conversion"),
                countsAsRevenue: try r.decode("counts_as_revenue"))
        }
    }

    /// The distinct keys of the events the actor sees (the conversions page's filter).
    public func keys(for actor: Actor) throws -> [String] {
        try database.query(
            "SELECT DISTINCT key FROM conversion_events WHERE \(fragment: actor.visibleWorkspaces("workspace_id")) ORDER BY key"
        ).map { $0["key"] ?? "" }
    }

    /// One event's workspace and key, or 404 (the caller checks who may change it).
    public func owner(of id: Int64) throws -> (workspaceID: Int64?, key: String) {
        guard let row = try database.query("SELECT workspace_id, key FROM conversion_events WHERE id = \(id)").first else {
            throw HTTPError.notFound("no event \(id)")
        }
        return (try row.decode("workspace_id", as: Int64?.self), row["key"] ?? "")
    }

    /// Renames an event and sets what it counts as.
    public func update(
        _ id: Int64, workspaceID: Int64?, name: String, countsAsConversion: Bool, countsAsRevenue: Bool, by actor: Actor
    ) throws {
        try database.transaction { c in
            try c.query(
                """
                UPDATE conversion_events
                SET name = \(name), counts_as_conversion = \(countsAsConversion), counts_as_revenue = \(countsAsRevenue)
                WHERE id = \(id)
                """)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "conversion_event", objectID: id, workspaceID: workspaceID,
                new: ["name": name, "counts_as_conversion": countsAsConversion, "counts_as_revenue": countsAsRevenue])
        }
    }

    /// A new event; false when the workspace has one with this key already.
    public func create(
        key: String, workspaceID: Int64?, name: String, countsAsConversion: Bool, countsAsRevenue: Bool, by actor: Actor
    ) throws -> Bool {
        try database.transaction { c -> Bool in
            let row = try c.query(
                """
                INSERT INTO conversion_events (workspace_id, key, name, counts_as_conversion, counts_as_revenue)
                VALUES (\(workspaceID), \(key), \(name), \(countsAsConversion), \(countsAsRevenue))
                ON CONFLICT (coalesce(workspace_id, 0), key) DO NOTHING RETURNING id
                """
            ).first
            if let row {
                try AuditLog.record(
                    c, actor: actor, action: "create", objectType: "conversion_event", objectID: try row.decode("id", as: Int64.self),
                    workspaceID: workspaceID, new: ["key": key])
            }
            return row != nil
        }
    }

    /// The event a postback names, created (named by its key) when new.
    /// Once per event and transaction: a batch of postbacks names the same few events.
    func ensure(on c: PostgresConnection, workspaceID: Int64?, key: String) throws {
        try c.memo("conversion_events \(workspaceID ?? 0) \(key)") {
            try c.query(
                """
                INSERT INTO conversion_events (workspace_id, key, name) VALUES (\(workspaceID), \(key), \(key))
                ON CONFLICT (coalesce(workspace_id, 0), key) DO NOTHING
                """, prepared: true)
        }
    }
}
