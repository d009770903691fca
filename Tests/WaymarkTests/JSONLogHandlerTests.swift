import Foundation
import Logging
import Testing
import Waymark

/// `WAYMARK_LOG_FORMAT=json`: each event is one line of one JSON object, whatever its text.
@Suite struct JSONLogHandlerTests {
    @Test func anEventIsOneLineOfJSONWithItsFieldsAndMetadata() throws {
        let line = JSONLogHandler.line(
            label: "waymark.serve", level: .warning, message: "quote \" newline\nend",
            metadata: ["request_id": "abc", "status": "302", "message": "cannot replace the message"],
            at: Date(timeIntervalSince1970: 1_700_000_000.25))
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["message"] == "quote \" newline\nend")
        #expect(object["level"] == "warning")
        #expect(object["logger"] == "waymark.serve")
        #expect(object["request_id"] == "abc")
        #expect(object["status"] == "302")
        #expect(object["time"] == "2023-11-14T22:13:20.250Z")
    }
}
