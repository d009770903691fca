import Foundation
import Postgres
import WaymarkCore
import Web

/// Landers in PostgreSQL; every call applies the actor's workspace rules (as for traffic sources).
public struct LanderStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public static let columns = "id, workspace_id, name, url, offers_count, status, created_at, updated_at"

    public static func decode(_ row: PostgresRow) throws -> Lander {
        Lander(
            id: try row.decode("id"), workspaceID: try row.decode("workspace_id", as: Int64?.self), name: try row.decode("name"),
            url: try row.decode("url"), offersCount: try row.decode("offers_count"), status: try row.decode("status"),
            createdAt: try row.decode("created_at"), updatedAt: try row.decode("updated_at"))
    }

    /// Landers the actor sees, optionally only one workspace's (Public ones always show).
    public func list(for actor: Actor, workspace: Int64? = nil) throws -> [Lander] {
        try database.query(
            """
            SELECT \(unescaped: LanderStore.columns) FROM landers
            WHERE archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("workspace_id"))
              AND (\(workspace)::bigint IS NULL OR workspace_id IS NULL OR workspace_id = \(workspace))
            ORDER BY lower(name), id
            """
        ).map(LanderStore.decode)
    }

    /// Every live lander, whoever sees it (the campaign cache's view).
    public static func all(on c: PostgresConnection) throws -> [Lander] {
        try c.query("SELECT \(unescaped: LanderStore.columns) FROM landers WHERE archived_at IS NULL").map(LanderStore.decode)
    }

    /// One lander, or 404 when it does not exist for this actor.
    public func get(_ id: Int64, for actor: Actor) throws -> Lander {
        guard
            let row = try database.query("SELECT \(unescaped: LanderStore.columns) FROM landers WHERE id = \(id) AND archived_at IS NULL")
                .first
        else { throw HTTPError.notFound("no lander \(id)") }
        let lander = try LanderStore.decode(row)
        try actor.requireVisible(workspace: lander.workspaceID)
        return lander
    }

    public func create(_ draft: LanderDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> Lander {
        try validate(draft, actor: actor, inputErrors: inputErrors)
        return try database.transaction { c in
            let row = try c.query(
                """
                INSERT INTO landers (workspace_id, name, url, offers_count, status)
                VALUES (\(draft.workspaceID), \(draft.name.trimmingCharacters(in: .whitespaces)), \(draft.url), \(draft.offersCount),
                        \(draft.status))
                RETURNING \(unescaped: LanderStore.columns)
                """
            ).first!
            let lander = try LanderStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "lander", objectID: lander.id, workspaceID: lander.workspaceID,
                new: LanderStore.audit(lander))
            return lander
        }
    }

    public func update(_ id: Int64, _ draft: LanderDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> Lander {
        let old = try get(id, for: actor)
        try actor.requireEditable(workspace: old.workspaceID)
        try validate(draft, actor: actor, inputErrors: inputErrors)
        return try database.transaction { c in
            if FlowStore.isMove(old.workspaceID, to: draft.workspaceID) {
                try FlowStore.requireUnused(on: c, kind: "lander", id: id, actor: actor, movingTo: draft.workspaceID)
            }
            let row = try c.query(
                """
                UPDATE landers SET workspace_id = \(draft.workspaceID), name = \(draft.name.trimmingCharacters(in: .whitespaces)),
                  url = \(draft.url), offers_count = \(draft.offersCount), status = \(draft.status), updated_at = now()
                WHERE id = \(id)
                RETURNING \(unescaped: LanderStore.columns)
                """
            ).first!
            let lander = try LanderStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "lander", objectID: id, workspaceID: lander.workspaceID,
                old: LanderStore.audit(old), new: LanderStore.audit(lander))
            return lander
        }
    }

    /// Archives a lander; refused (409, naming them) while flows use it.
    public func delete(_ id: Int64, by actor: Actor) throws {
        let lander = try get(id, for: actor)
        try actor.requireEditable(workspace: lander.workspaceID)
        try database.transaction { c in
            try FlowStore.requireUnused(on: c, kind: "lander", id: id, actor: actor)
            try c.query("UPDATE landers SET archived_at = now() WHERE id = \(id)")
            try AuditLog.record(
                c, actor: actor, action: "delete", objectType: "lander", objectID: id, workspaceID: lander.workspaceID,
                old: LanderStore.audit(lander))
        }
    }

    /// Field errors (with `inputErrors` from reading the body) → 422 listing every bad field.
    public func validate(_ draft: LanderDraft, actor: Actor, inputErrors: [String: String] = [:]) throws {
        var errors = draft.check()
        errors.merge(inputErrors) { _, input in input }
        errors.merge(try WorkspaceAccessStore.errors(draft.workspaceID, actor: actor, database: database)) { a, _ in a }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
    }

    /// Those of `ids` a flow in `workspace` may use (live, seen by the actor, Public or in `workspace`).
    public func usable(_ ids: [Int64], workspace: Int64?, for actor: Actor) throws -> Set<Int64> {
        try WorkspaceAccessStore.usable("landers", ids, workspace: workspace, actor: actor, database: database)
    }

    static func audit(_ l: Lander) -> [String: Any] {
        CampaignStore.auditValue(LanderJSON(l)) as? [String: Any] ?? [:]
    }
}
