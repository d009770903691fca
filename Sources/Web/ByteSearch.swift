#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Searching byte arrays (multipart bodies, lower-cased user agents) without String overhead.
///
/// Knuth–Morris–Pratt: at most 2·n byte comparisons for a haystack of n bytes, whatever the
/// needle (the naive search was n·m, and both n and m come from outside: a multipart boundary
/// and a body are the client's). While no prefix of the needle is matched, the next candidate
/// first byte is found with `memchr`, which keeps the common case (user agents) as fast as before.
public enum ByteSearch {
    /// The first index at or after `start` where `needle` occurs in `haystack`; nil when it does
    /// not, or when `needle` is empty.
    public static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
        var comparisons = 0
        return firstIndex(of: needle, in: haystack, from: start, comparisons: &comparisons)
    }

    /// The same, adding the number of byte comparisons made to `comparisons` (tests prove the
    /// search linear with it: never more than 2 × the bytes searched).
    public static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int, comparisons: inout Int) -> Int? {
        guard !needle.isEmpty, haystack.count - max(start, 0) >= needle.count else { return nil }
        // The failure table on the stack for short needles (user agents search ~50 per click).
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: needle.count) { table in
            needle.withUnsafeBufferPointer { p in
                buildFailure(p, into: table)
                return haystack.withUnsafeBufferPointer { h in
                    search(p, UnsafeBufferPointer(table), in: h, from: max(start, 0), comparisons: &comparisons)
                }
            }
        }
    }

    /// A needle prepared once for several searches (a multipart delimiter).
    public struct Pattern: Sendable {
        public let needle: [UInt8]
        let failure: [Int]

        public init(_ needle: [UInt8]) {
            self.needle = needle
            var failure = [Int](repeating: 0, count: needle.count)
            needle.withUnsafeBufferPointer { p in
                failure.withUnsafeMutableBufferPointer { ByteSearch.buildFailure(p, into: $0) }
            }
            self.failure = failure
        }

        public func firstIndex(in haystack: [UInt8], from start: Int = 0) -> Int? {
            var comparisons = 0
            return firstIndex(in: haystack, from: start, comparisons: &comparisons)
        }

        public func firstIndex(in haystack: [UInt8], from start: Int, comparisons: inout Int) -> Int? {
            guard !needle.isEmpty, haystack.count - max(start, 0) >= needle.count else { return nil }
            return needle.withUnsafeBufferPointer { p in
                failure.withUnsafeBufferPointer { f in
                    haystack.withUnsafeBufferPointer { h in
                        ByteSearch.search(p, f, in: h, from: max(start, 0), comparisons: &comparisons)
                    }
                }
            }
        }
    }

    /// `table[i]` = the length of the longest proper prefix of `needle[0...i]` that is also its suffix.
    static func buildFailure(_ needle: UnsafeBufferPointer<UInt8>, into table: UnsafeMutableBufferPointer<Int>) {
        guard !needle.isEmpty else { return }
        table[0] = 0
        var k = 0
        var i = 1
        while i < needle.count {
            while k > 0 && needle[i] != needle[k] { k = table[k - 1] }
            if needle[i] == needle[k] { k += 1 }
            table[i] = k
            i += 1
        }
    }

    /// Each step either moves `i` forward or shrinks `k` (which grew by at most one per step of
    /// `i`), so the loop runs at most 2·n times; `memchr` only moves `i` forward.
    static func search(
        _ needle: UnsafeBufferPointer<UInt8>, _ failure: UnsafeBufferPointer<Int>, in haystack: UnsafeBufferPointer<UInt8>,
        from start: Int, comparisons: inout Int
    ) -> Int? {
        let m = needle.count
        let n = haystack.count
        guard m > 0, let base = haystack.baseAddress else { return nil }
        let first = needle[0]
        var i = start
        var k = 0
        while i < n {
            if k == 0 {
                // Nothing matched yet: jump to the next byte equal to the needle's first.
                guard n - i >= m, let hit = memchr(base + i, Int32(first), n - i) else { return nil }
                let j = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                comparisons += j - i + 1
                i = j + 1
                k = 1
            } else {
                comparisons += 1
                if haystack[i] == needle[k] {
                    k += 1
                    i += 1
                } else {
                    k = failure[k - 1]
                    continue
                }
            }
            if k == m { return i - m }
        }
        return nil
    }
}
