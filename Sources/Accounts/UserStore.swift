import Foundation
import Postgres
import WaymarkCore
import Web

public struct AccountError: Error, CustomStringConvertible {
    public var description: String
    /// The form field the error belongs to.
    public var field: String
    public init(_ description: String, field: String = "email") {
        self.description = description
        self.field = field
    }
}

/// A user as the Users page shows it.
public struct User: Sendable {
    public var id: Int64
    public var email: String
    public var role: Role
    public var disabled: Bool
    public var workspaceIDs: [Int64]
    public var createdAt: Date
}

/// Users: created by the CLI or by owners on the Users page; roles, memberships, disabling.
public struct UserStore: Sendable {
    public let database: PostgresPool
    public let sessions: SessionStore

    public init(database: PostgresPool) {
        self.database = database
        sessions = SessionStore(database: database)
    }

    public func list() throws -> [User] { try users(id: nil) }

    public func get(_ id: Int64) throws -> User? { try users(id: id).first }

    /// All users (id nil) or one, with their workspace ids.
    private func users(id: Int64?) throws -> [User] {
        try database.query(
            """
            SELECT u.id, u.email, u.role, u.disabled_at IS NOT NULL AS disabled, u.created_at,
                   coalesce(array_agg(m.workspace_id ORDER BY m.workspace_id) FILTER (WHERE m.workspace_id IS NOT NULL), '{}') AS workspaces
            FROM users u LEFT JOIN workspace_members m ON m.user_id = u.id
            WHERE \(id)::bigint IS NULL OR u.id = \(id)
            GROUP BY u.id ORDER BY lower(u.email)
            """
        ).map(UserStore.decode)
    }

    public static func decode(_ row: PostgresRow) throws -> User {
        User(
            id: try row.decode("id"), email: try row.decode("email"), role: Role(rawValue: try row.decode("role")) ?? .viewer,
            disabled: try row.decode("disabled"), workspaceIDs: PostgresArray.int64s(row["workspaces"] ?? "{}"),
            createdAt: try row.decode("created_at"))
    }

    /// Checks an e-mail and password; nil for a wrong e-mail, a wrong password or a disabled
    /// user alike (and in about the same time).
    public func authenticate(email: String, password: String) throws -> Int64? {
        let row = try database.query("SELECT id, password_hash FROM users WHERE lower(email) = lower(\(email)) AND disabled_at IS NULL")
            .first
        guard let row, let hash = row["password_hash"] else {
            try PasswordHasher.limited { PasswordHasher.burn(password) }
            return nil
        }
        return try PasswordHasher.limited { PasswordHasher.verify(password, against: hash) } ? try row.decode("id", as: Int64.self) : nil
    }

    /// Changes role and memberships (owners only), audited.
    public func update(_ id: Int64, role: Role, workspaceIDs: [Int64], by actor: Actor) throws {
        try actor.requireOwner()
        guard let old = try get(id) else { throw HTTPError.notFound("no user \(id)") }
        if old.id == actor.userID && role != .owner { throw HTTPError.validation(["role": "you cannot take the owner role from yourself"]) }
        try database.transaction { c in
            try c.query("UPDATE users SET role = \(role.rawValue), updated_at = now() WHERE id = \(id)")
            try WorkspaceStore.setMemberships(id, to: workspaceIDs, on: c)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "user", objectID: id,
                old: ["role": old.role.rawValue, "workspaces": old.workspaceIDs.map { Int($0) }],
                new: ["role": role.rawValue, "workspaces": workspaceIDs.sorted().map { Int($0) }])
        }
    }

    /// Disables (or enables) a user; a disabled user's sessions end and tokens stop at once.
    public func setDisabled(_ id: Int64, _ disabled: Bool, by actor: Actor) throws {
        try actor.requireOwner()
        guard let user = try get(id) else { throw HTTPError.notFound("no user \(id)") }
        if user.id == actor.userID { throw HTTPError.conflict("you cannot disable yourself") }
        try database.transaction { c in
            try c.query(
                "UPDATE users SET disabled_at = \(disabled ? "now" : nil as String?)::timestamptz, updated_at = now() WHERE id = \(id)")
            if disabled { try sessions.deleteAll(userID: id, on: c) }
            try AuditLog.record(
                c, actor: actor, action: disabled ? "disable" : "enable", objectType: "user", objectID: id, new: ["email": user.email])
        }
    }

    /// Creates a user with a hashed password and memberships by workspace name; returns its id.
    /// `actor` is the owner doing it on a page (nil for the CLI, which runs as the machine's admin).
    @discardableResult
    public func create(email: String, password: String, role: Role, workspaces: [String] = [], by actor: Actor? = nil) throws -> Int64 {
        try actor?.requireOwner()
        let email = email.trimmingCharacters(in: .whitespaces)
        guard email.contains("@"), email.count <= 254 else { throw AccountError("not an e-mail address: \(email)") }
        guard password.count >= 8 else { throw AccountError("the password needs at least 8 characters", field: "password") }
        let hash = try PasswordHasher.limited { try PasswordHasher.hash(password) }
        return try database.transaction { c in
            var workspaceIDs: [Int64] = []
            for name in workspaces {
                guard let row = try c.query("SELECT id FROM workspaces WHERE lower(name) = lower(\(name))").first else {
                    throw AccountError("no workspace named \(name)", field: "workspaces")
                }
                workspaceIDs.append(try row.decode("id"))
            }
            let id: Int64
            do {
                id = try c.query(
                    """
                    INSERT INTO users (email, password_hash, role) VALUES (\(email), \(hash), \(role.rawValue)) RETURNING id
                    """
                ).first!.decode("id")
            } catch let error as PostgresError where error.isUniqueViolation {
                throw AccountError("a user with e-mail \(email) exists already")
            }
            try WorkspaceStore.addNewMember(id, to: workspaceIDs, on: c)
            if let actor {
                try AuditLog.record(
                    c, actor: actor, action: "create", objectType: "user", objectID: id,
                    new: ["email": email, "role": role.rawValue, "workspaces": workspaces])
            }
            return id
        }
    }

    /// Creates an API token for the user with that e-mail; returns the token (shown once).
    /// `APITokenStore` writes it (audited).
    public func createToken(email: String, name: String) throws -> String {
        try APITokenStore(database: database).create(email: email, name: name)
    }
}
