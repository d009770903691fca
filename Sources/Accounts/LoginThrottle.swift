import Foundation
import Postgres

/// Slows down and then locks repeated failed logins. Counts live in PostgreSQL so every
/// responder process shares them, and an attempt is counted before its password is checked,
/// under a row lock, so parallel attempts cannot overshoot the limit.
///
/// Three keys: the account from this address (locks after `lockAfter` failures), the address
/// (`ipFactor` × more room: offices share one) and the account from anywhere (as much room as
/// the address). The account-wide lock stops only addresses that have failed on that account:
/// nobody can lock the owner out by knowing the e-mail, and the right password from a clean
/// address goes through. Slowing down answers "wait" at once instead of sleeping on a thread.
public struct LoginThrottle: Sendable {
    public struct Policy: Sendable {
        /// Failures within `window` before each further attempt must wait.
        public var slowAfter = 3
        /// Failures within `window` before the key is locked for `lockFor`.
        public var lockAfter = 8
        public var window: TimeInterval = 15 * 60
        public var lockFor: TimeInterval = 15 * 60
        public var ipFactor = 5
        public var delayPerFailure: TimeInterval = 0.5
        public init() {}
    }

    public enum Verdict: Equatable, Sendable {
        /// Check the password; then call `succeeded` or `failed`.
        case allowed
        /// Too soon after the last failure: try again in this many seconds.
        case wait(seconds: Int)
        case locked(until: Date)
    }

    public let database: PostgresPool
    public let policy: Policy

    public init(database: PostgresPool, policy: Policy = Policy()) {
        self.database = database
        self.policy = policy
    }

    public struct Keys {
        public var pair: String
        public var ip: String
        public var account: String
        public var all: [String] { [pair, ip, account] }
    }

    public static func keys(email: String, ip: String) -> Keys {
        let email = email.lowercased()
        return Keys(pair: "pair:" + email + "|" + ip, ip: "ip:" + ip, account: "email:" + email)
    }

    public func lockAfter(_ key: String) -> Int { key.hasPrefix("pair:") ? policy.lockAfter : policy.lockAfter * policy.ipFactor }

    /// Decides on an attempt and, when it may go ahead, counts it as a failure already.
    public func attempt(email: String, ip: String) throws -> Verdict {
        let keys = LoginThrottle.keys(email: email, ip: ip)
        let window: PostgresQuery = "make_interval(secs => \(Int(policy.window)))"
        return try database.transaction { c in
            try c.query("INSERT INTO login_throttle (key) SELECT unnest(\(keys.all)::text[]) ON CONFLICT (key) DO NOTHING")
            // Locked in key order, so two attempts never wait on each other crosswise.
            let rows = try c.query(
                """
                SELECT key, CASE WHEN window_started_at > now() - \(fragment: window) THEN failures ELSE 0 END AS failures,
                       locked_until > now() AS locked, locked_until,
                       coalesce(extract(epoch FROM now() - last_failure_at), 1e9)::float8 AS since_failure
                FROM login_throttle WHERE key = ANY(\(keys.all)::text[]) ORDER BY key FOR UPDATE
                """)
            var byKey: [String: (failures: Int, locked: Date?, since: Double)] = [:]
            for row in rows {
                let locked = try row.decode("locked", as: Bool?.self) == true ? try row.decode("locked_until", as: Date.self) : nil
                byKey[try row.decode("key")] = (try row.decode("failures"), locked, try row.decode("since_failure"))
            }
            let pair = byKey[keys.pair] ?? (0, nil, .infinity)
            if let until = pair.locked ?? byKey[keys.ip]?.locked { return .locked(until: until) }
            if pair.failures > 0, let until = byKey[keys.account]?.locked { return .locked(until: until) }
            for key in [keys.pair, keys.ip] {
                guard let state = byKey[key] else { continue }
                let slowAfter = key == keys.pair ? policy.slowAfter : policy.slowAfter * policy.ipFactor
                guard state.failures >= slowAfter else { continue }
                let delay = min(5, Double(state.failures - slowAfter + 1) * policy.delayPerFailure)
                if state.since < delay { return .wait(seconds: max(1, Int((delay - state.since).rounded(.up)))) }
            }
            for key in keys.all {
                try c.query(
                    """
                    UPDATE login_throttle SET
                      failures = CASE WHEN window_started_at > now() - \(fragment: window) THEN failures + 1 ELSE 1 END,
                      window_started_at = CASE WHEN window_started_at > now() - \(fragment: window) THEN window_started_at ELSE now() END,
                      locked_until = CASE WHEN (CASE WHEN window_started_at > now() - \(fragment: window) THEN failures + 1 ELSE 1 END)
                                              >= \(lockAfter(key))
                                          THEN now() + make_interval(secs => \(Int(policy.lockFor))) ELSE locked_until END
                    WHERE key = \(key)
                    """)
            }
            return .allowed
        }
    }

    /// The password was wrong: the attempt stays counted; the next one waits from now.
    public func failed(email: String, ip: String) throws {
        try database.query(
            "UPDATE login_throttle SET last_failure_at = now() WHERE key = ANY(\(LoginThrottle.keys(email: email, ip: ip).all)::text[])")
    }

    /// The password was right: the attempt is taken back, and this address's count for the
    /// account cleared.
    public func succeeded(email: String, ip: String) throws {
        let keys = LoginThrottle.keys(email: email, ip: ip)
        try database.transaction { c in
            try c.query("DELETE FROM login_throttle WHERE key = \(keys.pair)")
            for key in [keys.ip, keys.account] {
                try c.query(
                    """
                    UPDATE login_throttle SET failures = greatest(0, failures - 1),
                      locked_until = CASE WHEN failures - 1 < \(lockAfter(key)) THEN NULL ELSE locked_until END
                    WHERE key = \(key)
                    """)
            }
        }
    }
}
