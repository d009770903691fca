import Foundation
import Postgres
import WaymarkCore

/// Browser sessions kept in PostgreSQL. The cookie carries a random id; the table keeps its
/// SHA-256, so a read of the table does not yield usable cookies.
public struct SessionStore: Sendable {
    public static let cookieName = "wm_session"
    /// A session ends after this long without a request…
    public static let idleTimeout: TimeInterval = 8 * 3600
    /// …and at the latest this long after login.
    public static let absoluteTimeout: TimeInterval = 7 * 24 * 3600

    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public struct Created: Sendable {
        public var cookieValue: String
        public var csrfToken: String
    }

    /// A new session for the user (a fresh id at every login).
    public func create(userID: Int64, ip: String, userAgent: String) throws -> Created {
        let value = RandomToken.base64URL(bytes: 32)
        let csrf = RandomToken.base64URL(bytes: 24)
        try database.query(
            """
            INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, ip, user_agent)
            VALUES (\(sha256Hex(value)), \(userID), \(csrf), now() + \(Int(SessionStore.absoluteTimeout)) * interval '1 second',
                    \(ip), \(String(userAgent.prefix(300))))
            """)
        return Created(cookieValue: value, csrfToken: csrf)
    }

    /// The actor behind a cookie value, if the session is live and its user active.
    public func actor(cookieValue: String) throws -> Actor? {
        try database.withConnection { c in
            guard
                let row = try c.query(
                    """
                    UPDATE sessions SET last_seen_at = now()
                    WHERE id_hash = \(sha256Hex(cookieValue)) AND expires_at > now()
                      AND last_seen_at > now() - \(Int(SessionStore.idleTimeout)) * interval '1 second'
                    RETURNING user_id, csrf_token
                    """, prepared: true
                ).first
            else { return nil }
            return try ActorStore.load(userID: row.decode("user_id"), channel: .session, csrfToken: row.decode("csrf_token"), on: c)
        }
    }

    public func delete(cookieValue: String) throws {
        try database.query("DELETE FROM sessions WHERE id_hash = \(sha256Hex(cookieValue))")
    }

    /// Ends every session of a user (disabling, password change), but the one of `except`'s cookie.
    public func deleteAll(userID: Int64, except cookieValue: String? = nil, on c: PostgresConnection) throws {
        try c.query("DELETE FROM sessions WHERE user_id = \(userID) AND id_hash IS DISTINCT FROM \(cookieValue.map(sha256Hex))")
    }
}
