import Foundation
import Postgres
import WaymarkCore

/// API tokens: created once (shown once), stored as SHA-256, revocable; a token acts as its
/// user with that user's role and workspaces.
public struct APITokenStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public func actor(token: String) throws -> Actor? {
        guard token.hasPrefix("wm_"), token.count < 100 else { return nil }
        return try database.withConnection { c in
            guard
                let row = try c.query(
                    """
                    UPDATE api_tokens SET last_used_at = now()
                    WHERE token_hash = \(sha256Hex(token)) AND revoked_at IS NULL
                    RETURNING user_id
                    """, prepared: true
                ).first
            else { return nil }
            return try ActorStore.load(userID: row.decode("user_id"), channel: .token, csrfToken: nil, on: c)
        }
    }

    public struct Token: Sendable {
        public var id: Int64
        public var name: String
        public var prefix: String
        public var userEmail: String
        public var createdAt: Date
        public var lastUsedAt: Date?
        public var revokedAt: Date?
    }

    /// The actor's own tokens; owners see everyone's.
    public func list(for actor: Actor) throws -> [Token] {
        try database.query(
            """
            SELECT t.id, t.name, t.prefix, u.email, t.created_at, t.last_used_at, t.revoked_at
            FROM api_tokens t JOIN users u ON u.id = t.user_id
            WHERE \(actor.canManageUsers) OR t.user_id = \(actor.userID)
            ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC
            """
        ).map { row in
            Token(
                id: try row.decode("id"), name: try row.decode("name"), prefix: try row.decode("prefix"),
                userEmail: try row.decode("email"),
                createdAt: try row.decode("created_at"), lastUsedAt: try row.decode("last_used_at", as: Date?.self),
                revokedAt: try row.decode("revoked_at", as: Date?.self))
        }
    }

    /// Creates a token for the actor itself; returns (id, token). The only writer of new
    /// tokens, always audited.
    public func create(for actor: Actor, name: String) throws -> (Int64, String) {
        let token = "wm_" + RandomToken.base64URL(bytes: 32)
        let id: Int64 = try database.transaction { c in try insert(token, name: name, for: actor, on: c) }
        return (id, token)
    }

    /// Creates a token for the active user with that e-mail (`waymark token create`, which runs
    /// as the machine's admin: audited as that user, via the CLI); returns the token.
    public func create(email: String, name: String) throws -> String {
        let token = "wm_" + RandomToken.base64URL(bytes: 32)
        try database.transaction { c in
            guard
                let row = try c.query("SELECT id FROM users WHERE lower(email) = lower(\(email)) AND disabled_at IS NULL").first,
                let actor = try ActorStore.load(userID: row.decode("id"), channel: .cli, csrfToken: nil, on: c)
            else { throw AccountError("no active user with e-mail \(email)") }
            _ = try insert(token, name: name, for: actor, on: c)
        }
        return token
    }

    private func insert(_ token: String, name: String, for actor: Actor, on c: PostgresConnection) throws -> Int64 {
        let id: Int64 = try c.query(
            """
            INSERT INTO api_tokens (user_id, name, token_hash, prefix)
            VALUES (\(actor.userID), \(name), \(sha256Hex(token)), \(String(token.prefix(10)))) RETURNING id
            """
        ).first!.decode("id")
        try AuditLog.record(
            c, actor: actor, action: "create", objectType: "api_token", objectID: id, new: ["name": name, "user": actor.email])
        return id
    }

    /// Revokes a token of the actor's own (owners: anyone's). Returns false when not found.
    public func revoke(id: Int64, by actor: Actor) throws -> Bool {
        try database.transaction { c in
            let rows = try c.query(
                """
                UPDATE api_tokens SET revoked_at = now()
                WHERE id = \(id) AND revoked_at IS NULL AND (\(actor.canManageUsers) OR user_id = \(actor.userID))
                RETURNING name
                """)
            guard let row = rows.first else { return false }
            try AuditLog.record(
                c, actor: actor, action: "revoke", objectType: "api_token", objectID: id,
                old: ["name": try row.decode("name", as: String.self)])
            return true
        }
    }
}
