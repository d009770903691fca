import Foundation
import Postgres

/// The four roles, strongest first.
public enum Role: String, Sendable, CaseIterable, Codable {
    case owner, admin, member, viewer
}

public struct AccountError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Creates users and API tokens (used by the CLI and, later, the pages).
public struct UserStore: Sendable {
    let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// Creates a user with a hashed password and memberships by workspace name; returns its id.
    @discardableResult
    public func create(email: String, password: String, role: Role, workspaces: [String] = []) throws -> Int64 {
        let email = email.trimmingCharacters(in: .whitespaces)
        guard email.contains("@"), email.count <= 254 else { throw AccountError("not an e-mail address: \(email)") }
        guard password.count >= 8 else { throw AccountError("the password needs at least 8 characters") }
        let hash = try PasswordHasher.hash(password)
        return try database.transaction { c in
            var workspaceIDs: [Int64] = []
            for name in workspaces {
                guard let row = try c.query("SELECT id FROM workspaces WHERE lower(name) = lower(\(name))").first else {
                    throw AccountError("no workspace named \(name)")
                }
                workspaceIDs.append(try row.decode("id"))
            }
            let id: Int64
            do {
                id = try c.query("""
                    INSERT INTO users (email, password_hash, role) VALUES (\(email), \(hash), \(role.rawValue)) RETURNING id
                    """).first!.decode("id")
            } catch let error as PostgresError where error.isUniqueViolation {
                throw AccountError("a user with e-mail \(email) exists already")
            }
            for workspaceID in workspaceIDs {
                try c.query("INSERT INTO workspace_members (workspace_id, user_id) VALUES (\(workspaceID), \(id))")
            }
            return id
        }
    }

    /// Creates an API token for the user with that e-mail; returns the token (shown once).
    public func createToken(email: String, name: String) throws -> String {
        guard let row = try database.query("SELECT id FROM users WHERE lower(email) = lower(\(email)) AND disabled_at IS NULL").first else {
            throw AccountError("no active user with e-mail \(email)")
        }
        let userID: Int64 = try row.decode("id")
        let token = "wm_" + RandomToken.base64URL(bytes: 32)
        try database.query("""
            INSERT INTO api_tokens (user_id, name, token_hash, prefix)
            VALUES (\(userID), \(name), \(sha256Hex(token)), \(String(token.prefix(10))))
            """)
        return token
    }
}
