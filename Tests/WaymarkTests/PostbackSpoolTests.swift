import Conversions
import Foundation
import Testing
import WaymarkCore

/// The postback spool's lines: what is written reads back the same, a damaged line is skipped.
@Suite struct PostbackSpoolTests {
    func postback(_ clickID: String, status: String = "approved", secret: String? = nil) -> SpooledPostback {
        var pairs = [("clickid", clickID), ("payout", "1.50"), ("status", status), ("txid", "T 1")]
        var query = "clickid=\(clickID)&payout=1.50&status=\(status)&txid=T%201"
        if let secret {
            pairs.append(("secret", secret))
            query += "&secret=\(secret)"
        }
        let raw = ConversionRecorder.Raw(
            channel: "postback", method: "GET", query: query, body: "", contentType: "", sourceIP: "203.0.113.7")
        return SpooledPostback(pairs: pairs, raw: raw, secret: secret, checkSecret: true, requireClickID: true)
    }

    func directory() -> String { NSTemporaryDirectory() + "postback-spool-\(UUID().uuidString)" }

    /// A spool for line tests (its directory is made, never written).
    func lines() throws -> PostbackSpool { try PostbackSpool(directory: NSTemporaryDirectory() + "postback-spool-lines") }

    @Test func aLineReadsBackAsWritten() throws {
        let written = [postback("A1"), postback("A2", status: "declined"), postback("ÿ✓ click")]
        let spool = try lines()
        let (read, skipped) = spool.parse(try written.flatMap(spool.line))
        #expect(skipped == 0)
        #expect(read == written)
        let input = try read[1].input()
        #expect(input.clickID == "A2" && input.status == .declined && input.txid == "T 1" && input.payout == "1.50")
        #expect(read[1].raw.query == "clickid=A2&payout=1.50&status=declined&txid=T%201" && read[1].raw.sourceIP == "203.0.113.7")
    }

    @Test func theLedgerCopyHasNoSecretButTheCheckStillCan() throws {
        let spooled = postback("S1", secret: "hunter2-secret")
        #expect(!spooled.query.contains("hunter2-secret"))
        #expect(spooled.query.contains("secret=[redacted]"))
        #expect(try spooled.input().secret == "hunter2-secret")  // checked on replay as it would have been live
        #expect(spooled.checkSecret)
    }

    @Test func aDamagedOrTornLineIsSkippedAndTheOthersKept() throws {
        let spool = try lines()
        var first = try spool.line(postback("D1"))
        let second = try spool.line(postback("D2"))
        let third = try spool.line(postback("D3"))
        first[first.count / 2] ^= 0x01  // one flipped bit in the JSON
        let torn = Array(third.prefix(third.count - 9))  // a crash mid-write
        let bytes = first + second + Array("no-checksum-here\n".utf8) + torn
        let (read, skipped) = spool.parse(bytes)
        #expect(read.map(\.pairs.first) == [["clickid", "D2"]])
        #expect(skipped == 3)
    }

    @Test func filesRotateInOrderAndKeepRewritesTheRest() throws {
        let spool = try PostbackSpool(directory: directory())
        defer { try? FileManager.default.removeItem(atPath: spool.directory) }
        #expect(!spool.hasPending && spool.pendingBytes == 0)
        #expect(spool.append(postback("R1")) && spool.append(postback("R2")))
        let first = spool.rotate()
        #expect(first.count == 1 && !FileManager.default.fileExists(atPath: spool.current))
        #expect(spool.append(postback("R3")))
        #expect(spool.pendingBytes > 0)
        let files = spool.rotate()
        #expect(files.count == 2 && files[0] == first[0])
        let (older, _) = spool.read(files[0])
        #expect(older.map { $0.pairs[0][1] } == ["R1", "R2"])
        #expect(spool.keep(older[1...], in: files[0]))
        #expect(spool.read(files[0]).records.map { $0.pairs[0][1] } == ["R2"])
        #expect(spool.read(files[1]).records.map { $0.pairs[0][1] } == ["R3"])
        #expect(spool.pendingFiles() == files)  // the rewrite's scratch file is gone
    }
}
