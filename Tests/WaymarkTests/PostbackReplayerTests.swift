import Conversions
import Foundation
import Logging
import Postgres
import Testing
import WaymarkCore

/// The replayer's answer while PostgreSQL cannot be reached (a closed port): spooled and
/// accepted, or unavailable when even the spool cannot be written. No stack needed.
@Suite struct PostbackReplayerTests {
    /// Never called: nothing is recorded without a database.
    struct NoOutbox: ConversionOutbox {
        func enqueue(
            on c: PostgresConnection, conversionID: Int64, click: ClickForConversion, input: PostbackInput, currency: String,
            previousStatus: String?
        ) throws {}
    }

    func replayer(directory: String) throws -> PostbackReplayer {
        let pool = PostgresPool(conninfo: "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", maxConnections: 1)
        let recorder = ConversionRecorder(
            database: pool, outbox: NoOutbox(), logger: Logger(label: "test"), unattributedLimit: AddressRateLimiter(rate: 1))
        return try PostbackReplayer(recorder: recorder, directory: directory) { false }
    }

    let pairs = [("clickid", "AAAA"), ("payout", "2"), ("secret", "top-secret-value")]
    let raw = ConversionRecorder.Raw(
        channel: "postback", method: "GET", query: "clickid=AAAA&payout=2&secret=top-secret-value", body: "", contentType: "",
        sourceIP: "198.51.100.1")

    @Test func aPostbackIsSpooledAndAcceptedWhileTheDatabaseIsAway() throws {
        let directory = NSTemporaryDirectory() + "postback-replayer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let replayer = try replayer(directory: directory)
        let input = try PostbackInput(pairs)
        for _ in 0..<2 {
            guard case .accepted = try replayer.record(input, pairs: pairs, raw: raw, checkSecret: true) else {
                Issue.record("not accepted")
                return
            }
        }
        let files = replayer.spool.pendingFiles()
        #expect(files == [replayer.spool.current])
        let (spooled, skipped) = replayer.spool.read(files[0])
        #expect(skipped == 0 && spooled.count == 2)
        #expect(spooled[0].namedPairs.map(\.1) == ["AAAA", "2", "top-secret-value"])
        #expect(spooled[0].query == "clickid=AAAA&payout=2&secret=[redacted]" && spooled[0].checkSecret)
    }

    @Test func aPostbackThatCannotBeSpooledIsUnavailable() throws {
        let directory = NSTemporaryDirectory() + "postback-replayer-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let replayer = try replayer(directory: directory)
        // A directory where the spool file belongs: no write succeeds, even as root.
        try FileManager.default.createDirectory(atPath: replayer.spool.current, withIntermediateDirectories: true)
        guard case .unavailable = try replayer.record(try PostbackInput(pairs), pairs: pairs, raw: raw, checkSecret: true) else {
            Issue.record("not unavailable")
            return
        }
    }
}
