import Postgres

/// Memberships (`workspace_members`): this store is their only writer, always in the caller's
/// transaction (the user pages change them with a user, the workspace page one at a time).
extension WorkspaceStore {
    /// Adds a user to a workspace (nothing when a member already).
    public static func addMember(_ workspaceID: Int64, userID: Int64, on c: PostgresConnection) throws {
        try c.query("INSERT INTO workspace_members (workspace_id, user_id) VALUES (\(workspaceID), \(userID)) ON CONFLICT DO NOTHING")
    }

    public static func removeMember(_ workspaceID: Int64, userID: Int64, on c: PostgresConnection) throws {
        try c.query("DELETE FROM workspace_members WHERE workspace_id = \(workspaceID) AND user_id = \(userID)")
    }

    /// A new user's memberships (the ids checked already).
    public static func addNewMember(_ userID: Int64, to workspaceIDs: [Int64], on c: PostgresConnection) throws {
        for workspaceID in workspaceIDs {
            try c.query("INSERT INTO workspace_members (workspace_id, user_id) VALUES (\(workspaceID), \(userID))")
        }
    }

    /// Replaces a user's memberships with those of `workspaceIDs` that exist.
    public static func setMemberships(_ userID: Int64, to workspaceIDs: [Int64], on c: PostgresConnection) throws {
        try c.query("DELETE FROM workspace_members WHERE user_id = \(userID)")
        try c.query(
            """
            INSERT INTO workspace_members (workspace_id, user_id)
            SELECT id, \(userID) FROM workspaces WHERE id = ANY(\(workspaceIDs)::bigint[])
            """
        )
    }
}
