import Foundation
import HTTPClient
import Logging
import Postgres
import Threads

/// The worker's sender: claims due outbox rows one at a time (`FOR UPDATE SKIP LOCKED`, so
/// several workers never send the same row at once), makes the call, records the try, and
/// either marks the row delivered, schedules a retry with exponential backoff (network errors,
/// 5xx, 408, 429), or gives up (`failed`). A worker killed mid-call leaves its row pending,
/// so the next worker sends it again: at least once; receivers de-duplicate by delivery id.
public final class DeliverySender: Sendable {
    public struct Policy: Sendable {
        public var backoffSeconds: Double
        public var maxBackoffSeconds: Double = 6 * 3600
        public var timeout: Double
        public var maxResponseBytes = 256 << 10
        public var outbound: OutboundPolicy

        public init(backoffSeconds: Double, timeout: Double, outbound: OutboundPolicy) {
            self.backoffSeconds = backoffSeconds
            self.timeout = timeout
            self.outbound = outbound
        }
    }

    public let conninfo: String
    public let policy: Policy
    public let workerID: String
    public let logger: Logger
    /// Conversion-API pushes: the integration's token added now, its answer judged its way.
    public let pushes: (any PushAuthorizer)?

    public init(conninfo: String, policy: Policy, workerID: String, logger: Logger, pushes: (any PushAuthorizer)? = nil) {
        self.conninfo = conninfo
        self.policy = policy
        self.workerID = workerID
        self.logger = logger
        self.pushes = pushes
    }

    /// Runs on its own thread until `stopping()` is true.
    public func run(stopping: @escaping @Sendable () -> Bool) {
        var connection: PostgresConnection?
        while !stopping() {
            do {
                if connection == nil {
                    let c = try PostgresConnection(conninfo: conninfo)
                    try c.listen("waymark_deliveries")
                    connection = c
                }
                while !stopping(), try sendNext(on: connection!) {}
                _ = try connection!.waitForNotifications(timeout: 1)
            } catch {
                logger.warning("deliveries: \(error)")
                connection = nil
                usleep(1_000_000)
            }
        }
    }

    /// Sends one due delivery; false when none is due.
    public func sendNext(on c: PostgresConnection) throws -> Bool {
        try c.transaction { c in
            guard
                let row = try c.query(
                    """
                    SELECT id, kind, target_id, method, url, headers::text AS headers, body, attempts, max_attempts FROM deliveries
                    WHERE state = 'pending' AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
                    """
                ).first
            else { return false }
            let id: Int64 = try row.decode("id")
            let attempt = (try row.decode("attempts", as: Int.self)) + 1
            let maxAttempts: Int = try row.decode("max_attempts")
            var headers: [(String, String)] = [("User-Agent", "Waymark/1.0"), ("X-Waymark-Delivery", String(id))]
            if let object = try? JSONSerialization.jsonObject(with: Data((row["headers"] ?? "{}").utf8)) as? [String: String] {
                headers += object.sorted { $0.key < $1.key }
            }
            var url: String = try row.decode("url")
            var judge: (@Sendable (Int, String) -> ProviderFailure?)?
            var secrets: [String] = []
            if row["kind"] == "capi", let pushes, let integrationID = row["target_id"].flatMap({ Int64($0) }) {
                switch pushes.plan(integrationID: integrationID, url: url) {
                case .send(let authorizedURL, let extra, let providerJudge):
                    url = authorizedURL
                    headers = headers.filter { $0.0.lowercased() != "content-type" } + extra
                    secrets = extra.map(\.1)
                    judge = providerJudge
                case .hold(let reason):
                    // Paused or waiting for a reconnect: not a try; look again in a minute.
                    try c.query(
                        "UPDATE deliveries SET last_error = \(reason), next_attempt_at = now() + interval '1 minute', updated_at = now() WHERE id = \(id)"
                    )
                    return true
                case .fail(let reason):
                    try c.query("UPDATE deliveries SET state = 'failed', last_error = \(reason), updated_at = now() WHERE id = \(id)")
                    return true
                }
            }
            let request = HTTPRequest(
                method: try row.decode("method"), url: url, headers: headers, body: row["body"].map { Array($0.utf8) },
                connectTimeout: min(5, policy.timeout), timeout: policy.timeout, maxResponseBytes: policy.maxResponseBytes)
            let started = monotonicSeconds()
            var status: Int?
            var excerpt: String?
            var error: String?
            var retry = false
            do {
                // Conversion-API pushes go to the providers' own origins (the operator's): exempt.
                let response = try policy.outbound.send(request, exempt: row["kind"] == "capi")
                status = response.status
                excerpt = String(String(decoding: response.body.prefix(512), as: UTF8.self).prefix(500))
                if let judge {
                    // The provider's own terms: TikTok's errors come inside a 200, Google's partial failures too.
                    if let failure = judge(response.status, response.text) {
                        error = failure.message
                        retry = failure.kind != .rejected
                        if failure.kind == .authorization, let target = row["target_id"].flatMap({ Int64($0) }) {
                            pushes?.authorizationLost(target, failure.message)
                        }
                    }
                } else if !(200..<300).contains(response.status) {
                    error = "HTTP \(response.status)"
                    retry = response.status >= 500 || response.status == 429 || response.status == 408
                }
            } catch let e as HTTPClientError {
                error = e.description
                retry = e.code != .denied && e.code != .invalidURL && e.code != .invalidHeader
            }
            error = error.map { Redaction.scrub($0, secrets: secrets) }
            excerpt = excerpt.map { Redaction.scrub($0, secrets: secrets) }
            let milliseconds = Int((monotonicSeconds() - started) * 1000)
            try c.query(
                """
                INSERT INTO delivery_attempts (delivery_id, duration_ms, http_status, response_excerpt, error, worker_id)
                VALUES (\(id), \(milliseconds), \(status), \(excerpt), \(error), \(workerID))
                """)
            if error == nil {
                try c.query(
                    """
                    UPDATE deliveries SET state = 'delivered', attempts = \(attempt), delivered_at = now(), last_error = NULL, updated_at = now()
                    WHERE id = \(id)
                    """)
            } else if retry && attempt < maxAttempts {
                let delay = backoff(attempt: attempt)
                try c.query(
                    """
                    UPDATE deliveries SET attempts = \(attempt), last_error = \(error),
                      next_attempt_at = now() + make_interval(secs => \(delay)), updated_at = now()
                    WHERE id = \(id)
                    """)
            } else {
                try c.query(
                    """
                    UPDATE deliveries SET state = 'failed', attempts = \(attempt), last_error = \(error), updated_at = now() WHERE id = \(id)
                    """)
                logger.warning("delivery \(id) failed after \(attempt) tries: \(error ?? "")")
            }
            return true
        }
    }

    /// base × 2^(attempt−1), capped, with ±20 % jitter so retries of many rows spread out.
    public func backoff(attempt: Int) -> Double {
        let raw = min(policy.maxBackoffSeconds, policy.backoffSeconds * pow(2, Double(attempt - 1)))
        return raw * Double.random(in: 0.8...1.2)
    }
}
