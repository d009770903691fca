import Foundation
import Postgres

/// Loading a signed-in user's or a token's actor: the user, role and memberships.
public enum ActorStore {
    /// Loads an active user's actor by id (nil when missing or disabled).
    public static func load(userID: Int64, channel: Actor.Channel, csrfToken: String?, on c: PostgresConnection) throws -> Actor? {
        guard
            let row = try c.query(
                """
                SELECT u.id, u.email, u.role,
                       coalesce(array_agg(m.workspace_id) FILTER (WHERE m.workspace_id IS NOT NULL), '{}') AS workspaces
                FROM users u LEFT JOIN workspace_members m ON m.user_id = u.id
                WHERE u.id = \(userID) AND u.disabled_at IS NULL
                GROUP BY u.id
                """, prepared: true
            ).first
        else { return nil }
        return Actor(
            userID: try row.decode("id"), email: try row.decode("email"),
            role: Role(rawValue: try row.decode("role", as: String.self)) ?? .viewer,
            workspaceIDs: Set(PostgresArray.int64s(row["workspaces"] ?? "{}")), channel: channel, csrfToken: csrfToken)
    }
}
