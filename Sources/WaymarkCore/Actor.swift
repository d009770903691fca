import Foundation
import Postgres
import Web

/// Who is acting: a signed-in user (session) or an API token's user, with their role and
/// workspaces. Every read and write of workspace-owned data goes through its rules.
public struct Actor: Sendable {
    public enum Channel: String, Sendable { case session, token, cli }

    public var userID: Int64
    public var email: String
    public var role: Role
    public var workspaceIDs: Set<Int64>
    public var channel: Channel
    /// The session's CSRF token (page requests only).
    public var csrfToken: String?

    public init(userID: Int64, email: String, role: Role, workspaceIDs: Set<Int64>, channel: Channel, csrfToken: String? = nil) {
        self.userID = userID
        self.email = email
        self.role = role
        self.workspaceIDs = workspaceIDs
        self.channel = channel
        self.csrfToken = csrfToken
    }

    /// Admins and owners see and manage everything.
    public var seesEverything: Bool { role == .owner || role == .admin }
    public var canWrite: Bool { role != .viewer }
    public var canManageUsers: Bool { role == .owner }

    /// An object in `workspaceID` (nil = Public) is visible to this actor.
    public func canSee(workspace workspaceID: Int64?) -> Bool {
        guard let workspaceID else { return true }
        return seesEverything || workspaceIDs.contains(workspaceID)
    }

    /// An object in `workspaceID` may be changed by this actor.
    public func canEdit(workspace workspaceID: Int64?) -> Bool {
        canWrite && canSee(workspace: workspaceID)
    }

    /// SQL condition limiting `column` (a workspace id, NULL = Public) to what the actor sees.
    public func visibleWorkspaces(_ column: String) -> PostgresQuery {
        if seesEverything { return "TRUE" }
        let ids = workspaceIDs.sorted()
        return "(\(unescaped: column) IS NULL OR \(unescaped: column) = ANY(\(ids)::bigint[]))"
    }

    /// Throws 404 unless the object is visible: another workspace's object does not exist for
    /// this actor.
    public func requireVisible(workspace workspaceID: Int64?) throws(HTTPError) {
        guard canSee(workspace: workspaceID) else { throw .notFound() }
    }

    /// Throws 404 when invisible, 403 when visible but read-only for this actor.
    public func requireEditable(workspace workspaceID: Int64?) throws(HTTPError) {
        try requireVisible(workspace: workspaceID)
        guard canWrite else { throw .forbidden("your role (\(role.rawValue)) cannot change anything") }
    }

    public func requireAdmin() throws(HTTPError) {
        guard seesEverything else { throw .forbidden("only admins and owners can do this") }
    }

    public func requireOwner() throws(HTTPError) {
        guard canManageUsers else { throw .forbidden("only owners manage users") }
    }

    /// The label the audit log keeps for this actor.
    public var auditLabel: String { email }
}

/// Reading simple PostgreSQL array literals (`{1,2,3}`).
public enum PostgresArray {
    public static func int64s(_ text: String) -> [Int64] {
        text.trimmingCharacters(in: ["{", "}"]).split(separator: ",").compactMap { Int64($0) }
    }
}
