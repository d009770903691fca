import Deliveries
import HTTPClient
import Testing

/// The delivery retry policy, fed outcomes: backoff, give-up, which answers are retryable.
struct DeliveryRetryPolicyTests {
    let policy = DeliveryRetryPolicy(backoffSeconds: 30)

    @Test func aDeliveredTryIsMarkedDeliveredWhateverTheCount() {
        #expect(policy.next(after: .delivered, attempt: 1, maxAttempts: 5) == .markDelivered)
        #expect(policy.next(after: .delivered, attempt: 5, maxAttempts: 5) == .markDelivered)
    }

    @Test func theBackoffDoublesFromTheBaseAndIsCapped() {
        #expect(policy.backoff(attempt: 1) == 30)
        #expect(policy.backoff(attempt: 2) == 60)
        #expect(policy.backoff(attempt: 4) == 240)
        #expect(policy.backoff(attempt: 20) == 6 * 3600)
        let small = DeliveryRetryPolicy(backoffSeconds: 1, maxBackoffSeconds: 5)
        #expect(small.backoff(attempt: 3) == 4)
        #expect(small.backoff(attempt: 4) == 5)
    }

    @Test func aRetryableFailureWaitsTheJitteredBackoff() {
        let failure = DeliveryRetryPolicy.Outcome.failed("HTTP 500", retryable: true)
        #expect(policy.next(after: failure, attempt: 1, maxAttempts: 5, jitter: 1) == .retry(afterSeconds: 30, error: "HTTP 500"))
        #expect(policy.next(after: failure, attempt: 3, maxAttempts: 5, jitter: 0.8) == .retry(afterSeconds: 96, error: "HTTP 500"))
        for _ in 0..<100 {
            guard case .retry(let seconds, _) = policy.next(after: failure, attempt: 2, maxAttempts: 5) else {
                Issue.record("not a retry")
                return
            }
            #expect((48...72).contains(seconds))
        }
    }

    @Test func theLastTryGivesUp() {
        let failure = DeliveryRetryPolicy.Outcome.failed("HTTP 503", retryable: true)
        #expect(policy.next(after: failure, attempt: 4, maxAttempts: 5, jitter: 1) == .retry(afterSeconds: 240, error: "HTTP 503"))
        #expect(policy.next(after: failure, attempt: 5, maxAttempts: 5) == .giveUp(error: "HTTP 503"))
        // A retried failed row has one more try than it had (max_attempts = attempts + 1).
        #expect(policy.next(after: failure, attempt: 6, maxAttempts: 6) == .giveUp(error: "HTTP 503"))
    }

    @Test func aPermanentFailureGivesUpAtOnce() {
        let failure = DeliveryRetryPolicy.Outcome.failed("HTTP 404", retryable: false)
        #expect(policy.next(after: failure, attempt: 1, maxAttempts: 5) == .giveUp(error: "HTTP 404"))
    }

    @Test func whichHTTPAnswersAreRetryable() {
        for status in [200, 201, 204, 299] { #expect(DeliveryRetryPolicy.outcome(status: status) == .delivered, "\(status)") }
        for status in [500, 502, 503, 504, 599, 408, 429] {
            #expect(DeliveryRetryPolicy.outcome(status: status) == .failed("HTTP \(status)", retryable: true), "\(status)")
        }
        for status in [301, 302, 400, 401, 403, 404, 410, 422] {
            #expect(DeliveryRetryPolicy.outcome(status: status) == .failed("HTTP \(status)", retryable: false), "\(status)")
        }
    }

    @Test func whichTransportErrorsAreRetryable() {
        for code in [HTTPClientError.Code.timeout, .connect, .tls, .tooLarge, .other] {
            #expect(DeliveryRetryPolicy.isRetryable(code))
        }
        for code in [HTTPClientError.Code.denied, .invalidURL, .invalidHeader] {
            #expect(!DeliveryRetryPolicy.isRetryable(code))
        }
    }

    @Test func onlyAProviderRejectionIsFinal() {
        for kind in [ProviderFailure.Kind.authorization, .rateLimited, .temporary] {
            #expect(DeliveryRetryPolicy.outcome(ProviderFailure(kind, "no")) == .failed("no", retryable: true))
        }
        #expect(DeliveryRetryPolicy.outcome(ProviderFailure(.rejected, "no")) == .failed("no", retryable: false))
    }
}
