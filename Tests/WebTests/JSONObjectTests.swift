import Foundation
import Testing
import Web

@Suite struct JSONObjectTests {
    struct Pair: Encodable {
        var status: String
        var conversionID: String?

        enum CodingKeys: String, CodingKey {
            case status
            case conversionID = "conversion_id"
        }
    }

    /// Each byte below 0x80, the escapes, a slash, and text beyond ASCII.
    static let hostile: String = {
        let bytes = (0..<0x80).map { UInt8($0) }
        return String(decoding: bytes, as: UTF8.self) + "é 日本 🙂 \\\" /"
    }()

    @Test(arguments: ["recorded", "", hostile, "</script><b>"])
    func aFlatObjectIsWhatTheEncoderWrites(_ value: String) throws {
        let expected = try JSONCoding.encoder.encode(Pair(status: value, conversionID: value + "1"))
        let written = JSONCoding.object([("status", value), ("conversion_id", value + "1")])
        #expect(written == Array(expected))
        let decoded = try JSONDecoder().decode([String: String].self, from: Data(written))
        #expect(decoded == ["status": value, "conversion_id": value + "1"])
    }

    @Test func oneFieldAndTheResponse() throws {
        let response = Response.json(fields: [("status", "accepted")], status: 202)
        #expect(response.status == 202)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.body == Array(try JSONCoding.encoder.encode(Pair(status: "accepted"))))
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"status":"accepted"}"#)
    }
}
