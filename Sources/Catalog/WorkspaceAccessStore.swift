import Foundation
import Postgres
import WaymarkCore
import Web

/// The workspace rule of a draft that names one (offers, landers, flows): the actor must be
/// able to edit there (a viewer is refused outright), and the workspace must exist.
enum WorkspaceAccessStore {
    static func errors(_ workspaceID: Int64?, actor: Actor, database: PostgresPool) throws -> [String: String] {
        if !actor.canEdit(workspace: workspaceID) {
            guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
            return ["workspace_id": "is not a workspace of yours"]
        }
        if let id = workspaceID, try database.query("SELECT 1 FROM workspaces WHERE id = \(id)").isEmpty {
            return ["workspace_id": "is not a workspace"]
        }
        return [:]
    }

    /// Those of `ids` that are live rows of `table` the actor sees, Public or in `workspace`:
    /// what a flow in `workspace` may use. `table` is one of this module's own names.
    static func usable(_ table: String, _ ids: [Int64], workspace: Int64?, actor: Actor, database: PostgresPool) throws -> Set<Int64> {
        guard !ids.isEmpty else { return [] }
        let rows = try database.query(
            """
            SELECT id FROM \(unescaped: table) WHERE id = ANY(\(Array(Set(ids)))::bigint[]) AND archived_at IS NULL
              AND \(fragment: actor.visibleWorkspaces("workspace_id")) AND (workspace_id IS NULL OR workspace_id = \(workspace))
            """)
        return Set(try rows.map { try $0.decode("id", as: Int64.self) })
    }
}
