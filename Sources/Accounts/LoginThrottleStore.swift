import Foundation
import Postgres

/// The login throttle's counts (`login_throttle`), shared by every responder process; the rule
/// that reads them is `LoginThrottle`'s.
public struct LoginThrottleStore: Sendable {
    /// One key's failures within the window, its lock, and the seconds since its last failure.
    public struct KeyState: Sendable {
        public var failures: Int
        public var locked: Date?
        public var sinceFailure: Double
    }

    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// In one transaction, the keys locked in key order (so two attempts never wait on each other
    /// crosswise): their states go to `verdict`, and when it allows, each key counts a failure.
    public func attempt(
        _ keys: [String], windowSeconds: Int, lockForSeconds: Int, lockAfter: (String) -> Int,
        verdict: ([String: KeyState]) -> LoginThrottle.Verdict
    ) throws -> LoginThrottle.Verdict {
        let window: PostgresQuery = "make_interval(secs => \(windowSeconds))"
        return try database.transaction { c in
            try c.query("INSERT INTO login_throttle (key) SELECT unnest(\(keys)::text[]) ON CONFLICT (key) DO NOTHING")
            let rows = try c.query(
                """
                SELECT key, CASE WHEN window_started_at > now() - \(fragment: window) THEN failures ELSE 0 END AS failures,
                       locked_until > now() AS locked, locked_until,
                       coalesce(extract(epoch FROM now() - last_failure_at), 1e9)::float8 AS since_failure
                FROM login_throttle WHERE key = ANY(\(keys)::text[]) ORDER BY key FOR UPDATE
                """)
            var byKey: [String: KeyState] = [:]
            for row in rows {
                let locked = try row.decode("locked", as: Bool?.self) == true ? try row.decode("locked_until", as: Date.self) : nil
                byKey[try row.decode("key")] = KeyState(
                    failures: try row.decode("failures"), locked: locked, sinceFailure: try row.decode("since_failure"))
            }
            let answer = verdict(byKey)
            guard answer == .allowed else { return answer }
            for key in keys {
                try c.query(
                    """
                    UPDATE login_throttle SET
                      failures = CASE WHEN window_started_at > now() - \(fragment: window) THEN failures + 1 ELSE 1 END,
                      window_started_at = CASE WHEN window_started_at > now() - \(fragment: window) THEN window_started_at ELSE now() END,
                      locked_until = CASE WHEN (CASE WHEN window_started_at > now() - \(fragment: window) THEN failures + 1 ELSE 1 END)
                                              >= \(lockAfter(key))
                                          THEN now() + make_interval(secs => \(lockForSeconds)) ELSE locked_until END
                    WHERE key = \(key)
                    """)
            }
            return .allowed
        }
    }

    /// The keys' last failure is now.
    public func failed(_ keys: [String]) throws {
        try database.query("UPDATE login_throttle SET last_failure_at = now() WHERE key = ANY(\(keys)::text[])")
    }

    /// `pair`'s count deleted, and one attempt taken back from each of `others`.
    public func succeeded(pair: String, others: [String], lockAfter: (String) -> Int) throws {
        try database.transaction { c in
            try c.query("DELETE FROM login_throttle WHERE key = \(pair)")
            for key in others {
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
