import Foundation
import HTTPClient

/// What the sender does after a try, as a plain value: which answers and errors are worth
/// another try, how long to wait (doubling from the configured backoff, capped, jittered), and
/// when to give up (`failed`). No I/O inside, so every branch is tested without a network.
public struct DeliveryRetryPolicy: Sendable, Equatable {
    /// The wait after the first failed try (WAYMARK_DELIVERY_BACKOFF).
    public var backoffSeconds: Double
    public var maxBackoffSeconds: Double

    public init(backoffSeconds: Double, maxBackoffSeconds: Double = 6 * 3600) {
        self.backoffSeconds = backoffSeconds
        self.maxBackoffSeconds = maxBackoffSeconds
    }

    /// How one try ended.
    public enum Outcome: Sendable, Equatable {
        case delivered
        /// Failed with this (redacted) message; `retryable` says whether trying again can help.
        case failed(String, retryable: Bool)
    }

    /// What happens to the row.
    public enum Action: Sendable, Equatable {
        case markDelivered
        case retry(afterSeconds: Double, error: String)
        case giveUp(error: String)
    }

    /// The row's next state after try number `attempt` of at most `maxAttempts`; `jitter`
    /// (0.8…1.2, random by default) spreads the retries of many rows.
    public func next(after outcome: Outcome, attempt: Int, maxAttempts: Int, jitter: Double = .random(in: 0.8...1.2)) -> Action {
        switch outcome {
        case .delivered: return .markDelivered
        case .failed(let error, let retryable):
            guard retryable, attempt < maxAttempts else { return .giveUp(error: error) }
            return .retry(afterSeconds: backoff(attempt: attempt) * jitter, error: error)
        }
    }

    /// base × 2^(attempt−1), capped.
    public func backoff(attempt: Int) -> Double {
        min(maxBackoffSeconds, backoffSeconds * pow(2, Double(max(attempt, 1) - 1)))
    }

    /// A plain HTTP answer (no provider's own judgement): 2xx is delivered; 5xx, 408 and 429
    /// may pass, every other status is the receiver's final word.
    public static func outcome(status: Int) -> Outcome {
        if (200..<300).contains(status) { return .delivered }
        return .failed("HTTP \(status)", retryable: status >= 500 || status == 429 || status == 408)
    }

    /// A provider's judgement of its answer: only a rejection is final.
    public static func outcome(_ failure: ProviderFailure) -> Outcome {
        .failed(failure.message, retryable: failure.kind != .rejected)
    }

    /// No answer: network trouble passes; a denied address or a bad URL or header never will.
    public static func outcome(_ error: HTTPClientError) -> Outcome {
        .failed(error.description, retryable: isRetryable(error.code))
    }

    public static func isRetryable(_ code: HTTPClientError.Code) -> Bool {
        code != .denied && code != .invalidURL && code != .invalidHeader
    }
}
