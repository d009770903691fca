import Foundation
import Postgres

/// The state of the worker's FX fetch (`fx_fetch`, one row): who may fetch now, and how the
/// last fetch went (the FX and Status pages show it).
public struct FXFetchStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public struct State: Sendable {
        public var lastAttemptAt: Date?
        public var lastSuccessAt: Date?
        public var lastURL: String?
        public var lastError: String?
        public var ratesStored: Int
    }

    /// Claims the fetch when it is due: asked for, never succeeded, the last success older than
    /// `every`, or the last failure older than `retry`; a claim older than 10 minutes is stale
    /// (a worker that died mid-fetch). True when this caller fetches; `first` is true when no
    /// fetch ever succeeded (then the history file is fetched).
    public func claim(every: Int, retry: Int) throws -> (claimed: Bool, first: Bool) {
        let row = try database.query(
            """
            UPDATE fx_fetch SET claimed_at = now(), requested_at = NULL
            WHERE id = 1 AND (claimed_at IS NULL OR claimed_at < now() - interval '10 minutes')
              AND (requested_at IS NOT NULL OR last_success_at IS NULL OR last_success_at < now() - \(every) * interval '1 second')
              AND (requested_at IS NOT NULL OR last_attempt_at IS NULL OR last_attempt_at < now() - \(retry) * interval '1 second'
                   OR last_attempt_at = last_success_at)
            RETURNING last_success_at IS NULL AS first
            """
        ).first
        guard let row else { return (false, false) }
        return (true, try row.decode("first"))
    }

    /// Ends a claim with its outcome: `error` nil for a success storing `stored` rates.
    public func finish(url: String, stored: Int, error: String?) throws {
        try database.query(
            """
            UPDATE fx_fetch SET claimed_at = NULL, last_attempt_at = now(), last_url = \(url),
                last_error = \(error), rates_stored = CASE WHEN \(error)::text IS NULL THEN \(stored) ELSE rates_stored END,
                last_success_at = CASE WHEN \(error)::text IS NULL THEN now() ELSE last_success_at END
            WHERE id = 1
            """)
    }

    /// An admin's "Fetch now": the next worker cycle fetches (and the worker is woken).
    public func request() throws {
        try database.transaction { c in
            try c.query("UPDATE fx_fetch SET requested_at = now() WHERE id = 1")
            try c.query("SELECT pg_notify('waymark_integrations', 'fx')")
        }
    }

    public func state() throws -> State? {
        try database.query(
            "SELECT last_attempt_at, last_success_at, last_url, last_error, rates_stored FROM fx_fetch WHERE id = 1"
        ).first.map { r in
            State(
                lastAttemptAt: try r.decode("last_attempt_at", as: Date?.self),
                lastSuccessAt: try r.decode("last_success_at", as: Date?.self),
                lastURL: r["last_url"],
                lastError: r["last_error"], ratesStored: try r.decode("rates_stored"))
        }
    }
}
