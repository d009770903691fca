import Foundation
import Postgres
import WaymarkCore
import Web

/// Flows in PostgreSQL; every call applies the actor's workspace rules (as for traffic sources).
/// `paths` is stored as `[FlowPath]` encodes itself (db/migrations/0013_flows.sql).
public struct FlowStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public static let columns = "id, workspace_id, name, paths::text AS paths, created_at, updated_at"

    public static func decode(_ row: PostgresRow) throws -> Flow {
        Flow(
            id: try row.decode("id"), workspaceID: try row.decode("workspace_id", as: Int64?.self), name: try row.decode("name"),
            paths: try decodePaths(try row.decode("paths")), createdAt: try row.decode("created_at"),
            updatedAt: try row.decode("updated_at"))
    }

    public static func decodePaths(_ text: String) throws -> [FlowPath] {
        try JSONDecoder().decode([FlowPath].self, from: Data(text.utf8))
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// Flows the actor sees, optionally only one workspace's (Public ones always show).
    public func list(for actor: Actor, workspace: Int64? = nil) throws -> [Flow] {
        try database.query(
            """
            SELECT \(unescaped: FlowStore.columns) FROM flows
            WHERE archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("workspace_id"))
              AND (\(workspace)::bigint IS NULL OR workspace_id IS NULL OR workspace_id = \(workspace))
            ORDER BY lower(name), id
            """
        ).map(FlowStore.decode)
    }

    /// Every live flow, whoever sees it (the campaign cache's view).
    public static func all(on c: PostgresConnection) throws -> [Flow] {
        try c.query("SELECT \(unescaped: FlowStore.columns) FROM flows WHERE archived_at IS NULL").map(FlowStore.decode)
    }

    /// One flow, or 404 when it does not exist for this actor.
    public func get(_ id: Int64, for actor: Actor) throws -> Flow {
        guard
            let row = try database.query("SELECT \(unescaped: FlowStore.columns) FROM flows WHERE id = \(id) AND archived_at IS NULL").first
        else { throw HTTPError.notFound("no flow \(id)") }
        let flow = try FlowStore.decode(row)
        try actor.requireVisible(workspace: flow.workspaceID)
        return flow
    }

    public func create(_ draft: FlowDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> Flow {
        try validate(draft, actor: actor, inputErrors: inputErrors)
        return try database.transaction { c in
            let row = try c.query(
                """
                INSERT INTO flows (workspace_id, name, paths)
                VALUES (\(draft.workspaceID), \(draft.name.trimmingCharacters(in: .whitespaces)), \(FlowStore.json(draft.paths))::jsonb)
                RETURNING \(unescaped: FlowStore.columns)
                """
            ).first!
            let flow = try FlowStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "flow", objectID: flow.id, workspaceID: flow.workspaceID,
                new: FlowStore.audit(flow))
            return flow
        }
    }

    public func update(_ id: Int64, _ draft: FlowDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> Flow {
        let old = try get(id, for: actor)
        try actor.requireEditable(workspace: old.workspaceID)
        try validate(draft, actor: actor, inputErrors: inputErrors)
        return try database.transaction { c in
            if FlowStore.isMove(old.workspaceID, to: draft.workspaceID) {
                try FlowStore.refuse(
                    try campaigns(using: id, on: c, actor: actor, outside: draft.workspaceID), kind: "campaign", of: "flow",
                    remedy: "a campaign uses only Public flows and its own workspace's")
            }
            let row = try c.query(
                """
                UPDATE flows SET workspace_id = \(draft.workspaceID), name = \(draft.name.trimmingCharacters(in: .whitespaces)),
                  paths = \(FlowStore.json(draft.paths))::jsonb, updated_at = now()
                WHERE id = \(id)
                RETURNING \(unescaped: FlowStore.columns)
                """
            ).first!
            let flow = try FlowStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "flow", objectID: id, workspaceID: flow.workspaceID,
                old: FlowStore.audit(old), new: FlowStore.audit(flow))
            return flow
        }
    }

    /// Archives a flow; refused (409, naming them) while campaigns use it.
    public func delete(_ id: Int64, by actor: Actor) throws {
        let flow = try get(id, for: actor)
        try actor.requireEditable(workspace: flow.workspaceID)
        try database.transaction { c in
            let users = try campaigns(using: id, on: c, actor: actor)
            try FlowStore.refuse(users, kind: "campaign", of: "flow", remedy: "point them at another flow or a URL first")
            try c.query("UPDATE flows SET archived_at = now() WHERE id = \(id)")
            try AuditLog.record(
                c, actor: actor, action: "delete", objectType: "flow", objectID: id, workspaceID: flow.workspaceID,
                old: FlowStore.audit(flow))
        }
    }

    /// 409 while live flows use offer or lander `id` (`kind`: "offer" or "lander"); with
    /// `movingTo`, only the flows that could not use it there (those outside that workspace).
    static func requireUnused(on c: PostgresConnection, kind: String, id: Int64, actor: Actor, movingTo: Int64? = nil) throws {
        let pattern = "[{\"\(kind)s\":[{\"id\":\(id)}]}]"
        let users = try c.query(
            """
            SELECT name, \(fragment: actor.visibleWorkspaces("workspace_id")) AS visible FROM flows
            WHERE archived_at IS NULL AND paths @> \(pattern)::jsonb
              AND (\(movingTo)::bigint IS NULL OR workspace_id IS DISTINCT FROM \(movingTo))
            ORDER BY lower(name), id
            """)
        let remedy = movingTo == nil ? "remove it from them first" : "a flow uses only Public \(kind)s and its own workspace's"
        try refuse(users, kind: "flow", of: kind, remedy: remedy)
    }

    /// Moving into another workspace (not Public) is refused while what uses the object stays
    /// outside it: they could no longer use it.
    static func isMove(_ old: Int64?, to new: Int64?) -> Bool { new != nil && new != old }

    /// Live campaigns on flow `id` (only those outside workspace `outside`, when given).
    func campaigns(using id: Int64, on c: PostgresConnection, actor: Actor, outside: Int64? = nil) throws -> PostgresRows {
        try c.query(
            """
            SELECT c.name, \(fragment: actor.visibleWorkspaces("s.workspace_id")) AS visible
            FROM campaigns c JOIN traffic_sources s ON s.id = c.traffic_source_id
            WHERE c.flow_id = \(id) AND c.archived_at IS NULL
              AND (\(outside)::bigint IS NULL OR s.workspace_id IS DISTINCT FROM \(outside))
            ORDER BY lower(c.name), c.id
            """)
    }

    /// Names the users the actor sees and counts the others (their names are not the actor's to read).
    static func refuse(_ rows: PostgresRows, kind: String, of object: String, remedy: String) throws {
        guard !rows.isEmpty else { return }
        let names = rows.filter { $0["visible"] == "t" }.map { "\"\($0["name"] ?? "")\"" }
        let hidden = rows.count - names.count
        let listed = names.joined(separator: ", ") + (hidden == 0 ? "" : (names.isEmpty ? "" : " and ") + "\(hidden) you cannot see")
        let noun = rows.count == 1 ? "1 \(kind)" : "\(rows.count) \(kind)s"
        throw HTTPError.conflict("this \(object) is used by \(noun): \(listed); \(remedy)")
    }

    /// Field errors (with `inputErrors` from reading the body) → 422 listing every bad field.
    public func validate(_ draft: FlowDraft, actor: Actor, inputErrors: [String: String] = [:]) throws {
        let workspaceErrors = try WorkspaceAccessStore.errors(draft.workspaceID, actor: actor, database: database)
        let landers = draft.paths.flatMap { $0.landers.map(\.id) }
        let offers = draft.paths.flatMap { $0.offers.map(\.id) }
        let check = FlowValidation(
            usableLanders: try WorkspaceAccessStore.usable(
                "landers", landers, workspace: draft.workspaceID, actor: actor, database: database),
            usableOffers: try WorkspaceAccessStore.usable("offers", offers, workspace: draft.workspaceID, actor: actor, database: database))
        var errors = check.errors(name: draft.name, paths: draft.paths)
        errors.merge(inputErrors) { _, input in input }
        errors.merge(workspaceErrors) { a, _ in a }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
    }

    /// Whether a campaign in `workspace` may use flow `id` (live, seen by the actor, Public or in `workspace`).
    public func isUsable(_ id: Int64, workspace: Int64?, for actor: Actor) throws -> Bool {
        try !WorkspaceAccessStore.usable("flows", [id], workspace: workspace, actor: actor, database: database).isEmpty
    }

    static func audit(_ f: Flow) -> [String: Any] {
        CampaignStore.auditValue(FlowJSON(f)) as? [String: Any] ?? [:]
    }
}
