import Threads

/// User agents already read, by their text: a click's user agent is usually one seen a moment
/// ago. Bounded: when full it starts over (a flood of distinct agents costs a re-read, never memory).
public final class UserAgentCache: Sendable {
    private let known = ReadMostly<[String: UserAgent]>([:])
    public let capacity: Int
    /// Longer agents are read every time rather than kept.
    static let maxLength = 512

    public init(capacity: Int = 4096) { self.capacity = capacity }

    public func reading(_ raw: String) -> UserAgent {
        guard raw.utf8.count <= UserAgentCache.maxLength else { return UserAgent(raw) }
        if let agent = known.read({ $0[raw] }) { return agent }
        let agent = UserAgent(raw)
        known.write { known in
            if known.count >= capacity { known.removeAll(keepingCapacity: true) }
            known[raw] = agent
        }
        return agent
    }

    public var count: Int { known.read { $0.count } }
}
