import Foundation
import HTTPClient
import Logging
import Postgres
import Threads

/// The worker's sender: claims due outbox rows one at a time (`FOR UPDATE SKIP LOCKED`, so
/// several workers never send the same row at once), makes the call, records the try, and
/// either marks the row delivered, schedules a retry or gives up (`failed`), as
/// DeliveryRetryPolicy decides. A worker killed mid-call leaves its row pending,
/// so the next worker sends it again: at least once; receivers de-duplicate by delivery id.
public final class DeliverySender: Sendable {
    public struct Policy: Sendable {
        /// Backoff and give-up (WAYMARK_DELIVERY_BACKOFF, ×2 per try, capped at 6 hours).
        public var retry: DeliveryRetryPolicy
        public var timeout: Double
        public var maxResponseBytes = 256 << 10
        public var outbound: OutboundPolicy

        public init(backoffSeconds: Double, timeout: Double, outbound: OutboundPolicy) {
            retry = DeliveryRetryPolicy(backoffSeconds: backoffSeconds)
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
    let store = OutboxStore()

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
            guard let due = try store.claimNext(on: c) else { return false }
            guard let call = try call(for: due, on: c) else { return true }
            let started = monotonicSeconds()
            let (status, excerpt, outcome) = send(call, due)
            let attempt = due.attempts + 1
            let action = policy.retry.next(after: outcome, attempt: attempt, maxAttempts: due.maxAttempts)
            var error: String?
            if case .failed(let message, _) = outcome { error = message }
            let made = OutboxStore.Try(
                milliseconds: Int((monotonicSeconds() - started) * 1000), httpStatus: status, excerpt: excerpt, error: error,
                workerID: workerID)
            try store.settle(on: c, id: due.id, attempt: attempt, try: made, action: action)
            if case .giveUp(let error) = action { logger.warning("delivery \(due.id) failed after \(attempt) tries: \(error)") }
            return true
        }
    }

    /// A due row's request, its answer's judge and the secrets to keep out of what is stored.
    struct Call {
        var request: HTTPRequest
        var judge: (@Sendable (Int, String) -> ProviderFailure?)?
        var secrets: [String]
    }

    /// The request of a due row. A Conversion-API push gets its integration's token now, or is
    /// held (paused, waiting for a reconnect: not a try) or failed: then nil.
    private func call(for due: OutboxStore.Due, on c: PostgresConnection) throws -> Call? {
        var headers: [(String, String)] = [("User-Agent", "Waymark/1.0"), ("X-Waymark-Delivery", String(due.id))]
        headers += due.headers.sorted { $0.key < $1.key }
        var url = due.url
        var judge: (@Sendable (Int, String) -> ProviderFailure?)?
        var secrets: [String] = []
        if due.kind == "capi", let pushes, let integrationID = due.targetID {
            switch pushes.plan(integrationID: integrationID, url: url) {
            case .send(let authorizedURL, let extra, let providerJudge):
                url = authorizedURL
                headers = headers.filter { $0.0.lowercased() != "content-type" } + extra
                secrets = extra.map(\.1)
                judge = providerJudge
            case .hold(let reason):
                try store.hold(on: c, id: due.id, reason: reason)
                return nil
            case .fail(let reason):
                try store.fail(on: c, id: due.id, reason: reason)
                return nil
            }
        }
        let request = HTTPRequest(
            method: due.method, url: url, headers: headers, body: due.body.map { Array($0.utf8) },
            connectTimeout: min(5, policy.timeout), timeout: policy.timeout, maxResponseBytes: policy.maxResponseBytes)
        return Call(request: request, judge: judge, secrets: secrets)
    }

    /// Makes the call: the answer's status and first bytes, and how the try ended (redacted).
    private func send(_ call: Call, _ due: OutboxStore.Due) -> (status: Int?, excerpt: String?, DeliveryRetryPolicy.Outcome) {
        var status: Int?
        var excerpt: String?
        var outcome: DeliveryRetryPolicy.Outcome
        do {
            // Conversion-API pushes go to the providers' own origins (the operator's): exempt.
            let response = try policy.outbound.send(call.request, exempt: due.kind == "capi")
            status = response.status
            excerpt = Redaction.scrub(
                String(String(decoding: response.body.prefix(512), as: UTF8.self).prefix(500)), secrets: call.secrets)
            outcome = judged(response, call, due)
        } catch {
            outcome = DeliveryRetryPolicy.outcome(error)
        }
        if case .failed(let message, let retryable) = outcome {
            outcome = .failed(Redaction.scrub(message, secrets: call.secrets), retryable: retryable)
        }
        return (status, excerpt, outcome)
    }

    /// A push's answer on the provider's own terms (TikTok's errors come inside a 200, Google's
    /// partial failures too); any other answer by its status.
    private func judged(_ response: HTTPResponse, _ call: Call, _ due: OutboxStore.Due) -> DeliveryRetryPolicy.Outcome {
        guard let judge = call.judge else { return DeliveryRetryPolicy.outcome(status: response.status) }
        guard let failure = judge(response.status, response.text) else { return .delivered }
        if failure.kind == .authorization, let target = due.targetID { pushes?.authorizationLost(target, failure.message) }
        return DeliveryRetryPolicy.outcome(failure)
    }
}
