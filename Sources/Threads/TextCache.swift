/// Values computed from a text, kept by that text: what the hot paths read again and again (a
/// click's user agent, a postback's source parameters) is computed once. Bounded: when full it
/// starts over, so a flood of distinct texts costs recomputing, never memory; texts longer than
/// `maxLength` are computed every time rather than kept.
public final class TextCache<Value: Sendable>: Sendable {
    private let known = ReadMostly<[String: Value]>([:])
    public let capacity: Int
    public let maxLength: Int

    public init(capacity: Int, maxLength: Int) {
        self.capacity = capacity
        self.maxLength = maxLength
    }

    public func value(for text: String, _ make: (String) -> Value) -> Value {
        guard text.utf8.count <= maxLength else { return make(text) }
        if let value = known.read({ $0[text] }) { return value }
        let value = make(text)
        known.write { known in
            if known.count >= capacity { known.removeAll(keepingCapacity: true) }
            known[text] = value
        }
        return value
    }

    public var count: Int { known.read { $0.count } }
}
