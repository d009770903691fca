// Target `form`: query strings and urlencoded form bodies (Web's URLEncoding).
@testable import Web

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(data, size, warmUp: ["a=1&b=%20x+y"]) { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        let pairs = URLEncoding.parseForm(text)

        // Never more pairs than `&` separators + 1 (empty pieces are skipped).
        let separators = text.utf8.count { $0 == UInt8(ascii: "&") }
        Fuzz.require(pairs.count <= separators + 1, "\(pairs.count) pairs from \(separators) separators")

        // What `formString` builds, `parseForm` reads back exactly (names and values alike).
        let again = URLEncoding.parseForm(URLEncoding.formString(pairs))
        Fuzz.require(
            again.count == pairs.count && zip(again, pairs).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 },
            "formString/parseForm round trip changed \(pairs) into \(again)")

        // encode → decode is the identity, with or without `+` as space.
        let encoded = URLEncoding.encode(text)
        Fuzz.require(encoded.utf8.allSatisfy { URLEncoding.isUnreserved($0) || $0 == UInt8(ascii: "%") }, "encode left a reserved byte")
        Fuzz.require(
            URLEncoding.decode(encoded) == text && URLEncoding.decode(encoded, plusAsSpace: false) == text, "decode(encode(s)) != s")

        // Decoding only shrinks (in bytes) unless invalid UTF-8 had to be repaired.
        let decoded = URLEncoding.decode(text, plusAsSpace: false)
        if String(validating: bytes, as: UTF8.self) != nil, !decoded.unicodeScalars.contains("\u{FFFD}") {
            Fuzz.require(decoded.utf8.count <= text.utf8.count, "decode grew \(text.utf8.count) bytes to \(decoded.utf8.count)")
        }
        // Text without `%` or `+` decodes to itself.
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) {
            Fuzz.require(URLEncoding.decode(text) == text, "decode changed text without escapes")
        }
    }
}
