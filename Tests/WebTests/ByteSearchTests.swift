import Testing
import Web

/// `ByteSearch` is reached without login (multipart bodies on `/postback` and `/login`, user
/// agents on every click): it must find what the naive search finds, in linear work.
@Suite struct ByteSearchTests {
    /// The old quadratic search, as the reference for what a match is.
    static func naive(_ needle: [UInt8], _ haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var i = max(start, 0)
        while i <= haystack.count - needle.count {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    @Test func findsWhatTheNaiveSearchFinds() {
        var rng = SplitMix(seed: 16)
        for _ in 0..<4000 {
            // A two- or three-letter alphabet makes overlapping partial matches common.
            let alphabet = UInt8(2 + rng.next() % 2)
            let haystack = (0..<Int(rng.next() % 60)).map { _ in UInt8(97) + UInt8(rng.next() % UInt64(alphabet)) }
            let needle = (0..<Int(1 + rng.next() % 6)).map { _ in UInt8(97) + UInt8(rng.next() % UInt64(alphabet)) }
            let start = Int(rng.next() % 8)
            let expected = Self.naive(needle, haystack, from: start)
            #expect(ByteSearch.firstIndex(of: needle, in: haystack, from: start) == expected, "\(needle) in \(haystack) from \(start)")
            #expect(ByteSearch.Pattern(needle).firstIndex(in: haystack, from: start) == expected)
        }
    }

    @Test func edgeCases() {
        #expect(ByteSearch.firstIndex(of: [], in: [1, 2]) == nil)
        #expect(ByteSearch.firstIndex(of: [1], in: []) == nil)
        #expect(ByteSearch.firstIndex(of: [1, 2, 3], in: [1, 2]) == nil)
        #expect(ByteSearch.firstIndex(of: [2], in: [1, 2], from: 5) == nil)
        #expect(ByteSearch.firstIndex(of: [1, 2], in: [1, 2], from: -3) == 0)
        #expect(ByteSearch.firstIndex(of: [1, 2], in: [1, 1, 2]) == 1)
        #expect(ByteSearch.firstIndex(of: [1, 1, 2], in: [1, 1, 1, 1, 2]) == 2)
        #expect(ByteSearch.firstIndex(of: Array("chrome/".utf8), in: Array("mozilla/5.0 chrome/120".utf8)) == 12)
    }

    /// The attack of issue 16: a boundary of thousands of dashes against a body of near-boundaries.
    /// The naive search makes about n·m comparisons (here 2^20 × 4096 ≈ 4·10^9); this one at most 2·n.
    @Test func worstCaseInputsCostAtMostTwoComparisonsPerByte() {
        let needle = [UInt8](repeating: 45, count: 4096) + [33]
        let haystack = [UInt8](repeating: 45, count: 1 << 20)
        var comparisons = 0
        #expect(ByteSearch.firstIndex(of: needle, in: haystack, from: 0, comparisons: &comparisons) == nil)
        #expect(comparisons <= 2 * haystack.count)

        // Near-boundaries: the needle's prefix again and again, each broken by its last byte.
        let near = Array(repeating: [UInt8](repeating: 45, count: 4095) + [46], count: 256).joined()
        comparisons = 0
        #expect(ByteSearch.Pattern(needle).firstIndex(in: Array(near), from: 0, comparisons: &comparisons) == nil)
        #expect(comparisons <= 2 * near.count)

        // A periodic needle with many borders (abab…abc) over abab…: still linear.
        let periodic = Array(repeating: Array("ab".utf8), count: 2000).joined() + Array("c".utf8)
        let text = Array(Array(repeating: Array("ab".utf8), count: 300_000).joined()) + periodic
        comparisons = 0
        #expect(ByteSearch.firstIndex(of: Array(periodic), in: text, from: 0, comparisons: &comparisons) == text.count - periodic.count)
        #expect(comparisons <= 2 * text.count)
    }

    @Test func multipartRefusesBoundariesLongerThanRFC2046Allows() {
        let long = String(repeating: "-", count: 5000)
        let body = Array(("--" + long + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--" + long + "--\r\n").utf8)
        let request = Request(method: "POST", path: "/x", headers: ["content-type": "multipart/form-data; boundary=" + long], body: body)
        do {
            _ = try request.multipart()
            Issue.record("a 5000-character boundary was accepted")
        } catch {
            #expect(error.status == 400)
        }
        #expect(Multipart.parse(body, boundary: long) == nil)
        // 70 characters is still fine.
        let seventy = String(repeating: "-", count: 70)
        let ok = Array(("--" + seventy + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--" + seventy + "--\r\n").utf8)
        #expect(Multipart.parse(ok, boundary: seventy)?.map(\.text) == ["x"])
    }

    @Test func multipartRefusesMoreThanTheMaximumNumberOfParts() {
        func body(_ count: Int) -> [UInt8] {
            var text = ""
            for i in 0..<count { text += "--B\r\nContent-Disposition: form-data; name=\"f\(i)\"\r\n\r\n\(i)\r\n" }
            return Array((text + "--B--\r\n").utf8)
        }
        #expect(Multipart.parse(body(Multipart.maxParts), boundary: "B")?.count == Multipart.maxParts)
        #expect(Multipart.parse(body(Multipart.maxParts + 1), boundary: "B") == nil)
        let request = Request(
            method: "POST", path: "/x", headers: ["content-type": "multipart/form-data; boundary=B"], body: body(Multipart.maxParts + 1))
        #expect(throws: HTTPError.self) { try request.multipart() }
    }

    @Test func multipartOfNearBoundariesIsRefusedAndParsesAsBefore() {
        // A body of near-delimiters (CRLF + "--" + boundary minus its last character) ends unterminated.
        let boundary = String(repeating: "-", count: 69) + "x"
        let near = "\r\n--" + String(repeating: "-", count: 69)
        let body = Array(
            ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + String(repeating: near, count: 20_000)).utf8)
        #expect(Multipart.parse(body, boundary: boundary) == nil)
        // Delimiters inside content that only look alike are content.
        let text =
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nline\r\n-XyZ\r\n--XY\r\n--XyZ\r\n"
            + "Content-Disposition: form-data; name=\"b\"; filename=\"f.csv\"\r\n\r\n\r\n\r\n--XyZ--"
        let parts = Multipart.parse(Array(text.utf8), boundary: "XyZ")
        #expect(parts?.map(\.name) == ["a", "b"])
        #expect(parts?.first?.text == "line\r\n-XyZ\r\n--XY")
        #expect(parts?.last?.text == "\r\n")
    }
}

/// A small deterministic generator (the tests must not depend on a random seed).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
