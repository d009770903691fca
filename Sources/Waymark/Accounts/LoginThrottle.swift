import Foundation
import Postgres

/// Slows down and then locks repeated failed logins, per account and per client address.
/// Counts live in PostgreSQL so every responder process shares them.
public struct LoginThrottle: Sendable {
    public struct Policy: Sendable {
        /// Failures within `window` before each further attempt is slowed down.
        public var slowAfter = 3
        /// Failures within `window` before the key is locked for `lockFor`.
        public var lockAfter = 8
        public var window: TimeInterval = 15 * 60
        public var lockFor: TimeInterval = 15 * 60
        /// A client address gets more room (offices share one).
        public var ipFactor = 5
        public var delayPerFailure: TimeInterval = 0.5
        public init() {}
    }

    public enum Verdict: Equatable, Sendable {
        case allowed(delay: TimeInterval)
        case locked(until: Date)
    }

    let database: PostgresPool
    let policy: Policy

    public init(database: PostgresPool, policy: Policy = Policy()) {
        self.database = database
        self.policy = policy
    }

    static func keys(email: String, ip: String) -> [String] {
        ["email:" + email.lowercased(), "ip:" + ip]
    }

    /// Whether a login attempt may go ahead now, and how long to wait before answering.
    public func check(email: String, ip: String) throws -> Verdict {
        let rows = try database.query("""
            SELECT key, failures, locked_until > now() AS locked, locked_until,
                   window_started_at > now() - \(Int(policy.window)) * interval '1 second' AS current
            FROM login_throttle WHERE key = ANY(\(LoginThrottle.keys(email: email, ip: ip))::text[])
            """)
        var delay: TimeInterval = 0
        for row in rows {
            if try row.decode("locked", as: Bool?.self) == true { return .locked(until: try row.decode("locked_until")) }
            guard try row.decode("current", as: Bool.self) else { continue }
            let failures: Int = try row.decode("failures")
            let key: String = try row.decode("key")
            let slowAfter = key.hasPrefix("ip:") ? policy.slowAfter * policy.ipFactor : policy.slowAfter
            if failures >= slowAfter { delay = max(delay, min(5, Double(failures - slowAfter + 1) * policy.delayPerFailure)) }
        }
        return .allowed(delay: delay)
    }

    /// Counts a failure for the account and the address; locks a key that reached the limit.
    public func recordFailure(email: String, ip: String) throws {
        for key in LoginThrottle.keys(email: email, ip: ip) {
            let lockAfter = key.hasPrefix("ip:") ? policy.lockAfter * policy.ipFactor : policy.lockAfter
            try database.query("""
                INSERT INTO login_throttle AS t (key, failures) VALUES (\(key), 1)
                ON CONFLICT (key) DO UPDATE SET
                  failures = CASE WHEN t.window_started_at > now() - \(Int(policy.window)) * interval '1 second' THEN t.failures + 1 ELSE 1 END,
                  window_started_at = CASE WHEN t.window_started_at > now() - \(Int(policy.window)) * interval '1 second' THEN t.window_started_at ELSE now() END,
                  locked_until = CASE WHEN t.window_started_at > now() - \(Int(policy.window)) * interval '1 second' AND t.failures + 1 >= \(lockAfter)
                                      THEN now() + \(Int(policy.lockFor)) * interval '1 second' ELSE t.locked_until END
                """)
        }
    }

    /// A successful login clears the account's count (not the address's).
    public func recordSuccess(email: String) throws {
        try database.query("DELETE FROM login_throttle WHERE key = \("email:" + email.lowercased())")
    }
}
