import Threads

/// User agents already read, by their text: a click's user agent is usually one seen a moment
/// ago. Bounded (a flood of distinct agents costs a re-read, never memory).
public final class UserAgentCache: Sendable {
    private let known: TextCache<UserAgent>
    /// Longer agents are read every time rather than kept.
    static let maxLength = 512

    public init(capacity: Int = 4096) { known = TextCache(capacity: capacity, maxLength: UserAgentCache.maxLength) }

    public var capacity: Int { known.capacity }

    public func reading(_ raw: String) -> UserAgent { known.value(for: raw, UserAgent.init) }

    public var count: Int { known.count }
}
