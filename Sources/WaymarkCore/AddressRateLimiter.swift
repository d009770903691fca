import Foundation
import Synchronization

/// A token bucket per client address, in memory and bounded: at most `maxAddresses` are
/// tracked; when full, the buckets that have refilled (equivalent to new ones) are forgotten,
/// and if none has, all are. Per process: a flood is limited on each responder.
public final class AddressRateLimiter: Sendable {
    public let rate: Double
    public let burst: Double
    public let maxAddresses: Int
    private struct Bucket {
        public var tokens: Double
        public var at: Double
    }
    private let buckets = Mutex<[String: Bucket]>([:])

    /// `rate` per second, bursts of `burst` (default 10 seconds' worth).
    public init(rate: Double, burst: Double? = nil, maxAddresses: Int = 10_000) {
        self.rate = max(rate, 0.001)
        self.burst = max(1, burst ?? rate * 10)
        self.maxAddresses = maxAddresses
    }

    /// Takes one token for `address`; false when its bucket is empty.
    public func allow(_ address: String, now: Double = Date().timeIntervalSince1970) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[address] ?? Bucket(tokens: burst, at: now)
            bucket.tokens = min(burst, bucket.tokens + max(0, now - bucket.at) * rate)
            bucket.at = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            if buckets[address] == nil, buckets.count >= maxAddresses {
                let refill = burst / rate
                buckets = buckets.filter { now - $0.value.at < refill }
                if buckets.count >= maxAddresses { buckets.removeAll(keepingCapacity: true) }
            }
            buckets[address] = bucket
            return allowed
        }
    }
}
