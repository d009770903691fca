import Foundation
import Testing
import WaymarkCore
import Web

/// The click writer's JSON of a click's extra parameters (any string survives the round trip),
/// and the postback's answer (the API encoder's bytes for text without control characters).
@Suite struct JSONStringObjectTests {
    @Test func everyStringRoundTripsAndKeysAreInByteOrder() throws {
        let values = [
            "b": "plain", "a": "quote \" and backslash \\", "ctl": "tab\tnew\nline\u{1}\u{1F}", "ü": "München ✓ 🚀",
            "": "", "slash": "a/b", "Z": "\u{7F}",
        ]
        let text = JSONStringObject.encode(values)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(parsed == values)
        #expect(text.hasPrefix(#"{"":"","Z":"\#u{7F}","a":"quote \" and backslash \\","b""#))
        #expect(JSONStringObject.encode([:]) == "{}")
    }

    @Test func withoutControlCharactersTheBytesAreTheEncoders() throws {
        for values in [
            ["status": "recorded", "conversion_id": "42"], ["status": "accepted"],
            ["a": "quote \" and backslash \\", "ü": "München ✓ 🚀", "slash": "a/b </script>", "": "", "z": "\u{7F}"],
        ] {
            #expect(Array(JSONStringObject.encode(values).utf8) == Array(try JSONCoding.encoder.encode(values)))
        }
    }

    @Test func randomStringsRoundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var values: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let scalars = (0..<Int.random(in: 0...12, using: &rng)).compactMap { _ in
                    Unicode.Scalar(UInt32.random(in: 1...0x2FF, using: &rng))
                }
                values[String(String.UnicodeScalarView(scalars))] = String(String.UnicodeScalarView(scalars.reversed()))
            }
            let parsed = try JSONSerialization.jsonObject(with: Data(JSONStringObject.encode(values).utf8)) as? [String: String]
            #expect(parsed == values)
        }
    }
}
