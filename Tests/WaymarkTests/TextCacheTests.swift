import Testing
import Threads

@Suite struct TextCacheTests {
    /// Counts how often the cache computes, so a test sees what it kept.
    final class Counter: @unchecked Sendable { var calls = 0 }

    @Test func aTextIsComputedOnceAndALongOneEveryTime() {
        let cache = TextCache<Int>(capacity: 4, maxLength: 8)
        let counter = Counter()
        let length = { (text: String) -> Int in
            counter.calls += 1
            return text.count
        }
        #expect(cache.value(for: "abc", length) == 3)
        #expect(cache.value(for: "abc", length) == 3)
        #expect(counter.calls == 1)
        #expect(cache.value(for: "123456789", length) == 9)
        #expect(cache.value(for: "123456789", length) == 9)
        #expect(counter.calls == 3)
        #expect(cache.count == 1)
    }

    @Test func whenFullItStartsOverAndStaysWithinItsCapacity() {
        let cache = TextCache<String>(capacity: 4, maxLength: 64)
        for n in 0..<100 {
            #expect(cache.value(for: "t\(n)") { $0.uppercased() } == "T\(n)")
            #expect(cache.count <= 4)
        }
        #expect(cache.count >= 1)
    }
}
