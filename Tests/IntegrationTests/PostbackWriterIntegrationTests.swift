import Accounts
import Conversions
import Deliveries
import Foundation
import HTTPClient
import Logging
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting
import Web

/// The postback writer's batches (group commit) against the test database: postbacks recorded
/// together get the outcomes they get one by one, and one that fails costs the others nothing.
@Suite(.needsStack, .timeLimit(.minutes(2))) struct PostbackWriterIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP.tracking()
    /// One unattributed postback per address, then 429 (the limit the batch trips on).
    let limit = AddressRateLimiter(rate: 0.001, burst: 1)

    func writer() -> PostbackWriter {
        PostbackWriter(
            recorder: ConversionRecorder(
                database: database, outbox: Outbox(database: database, maxAttempts: 3), logger: Logger(label: "test"),
                unattributedLimit: limit))
    }

    /// Three clicks on a new campaign.
    func clicks() throws -> [String] {
        let email = "writer-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let source = try api.postJSON("/api/v1/traffic-sources", ["name": "S \(uniqueSuffix())", "cost_currency": "USD"])
        let campaign = try api.postJSON(
            "/api/v1/campaigns",
            [
                "name": "C", "traffic_source_id": try #require(source.json["id"] as? Int),
                "destination_url": "https://o.example/?s={clickid}",
            ])
        let key = try #require(campaign.json["key"] as? String)
        let ids = try (0..<3).map { _ in
            let location = try #require(try tracking.get("/c/\(key)").header("Location"))
            return try #require(URLComponents(string: location)?.queryItems?.first { $0.name == "s" }?.value)
        }
        // A 302 may come from the click spool (an earlier test's outage still replaying).
        let stored = waitUntil(seconds: 20) {
            (try? database.query("SELECT count(*) AS n FROM clicks WHERE id = ANY(\(ids)::text[])")[0]["n"]) == "3"
        }
        #expect(stored, "the clicks were not stored")
        return ids
    }

    func item(_ pairs: [(String, String)], from address: String = "198.51.100.7") throws -> ConversionRecorder.Item {
        let raw = ConversionRecorder.Raw(channel: "postback", method: "GET", query: "", body: "", contentType: "", sourceIP: address)
        return ConversionRecorder.Item(try PostbackInput(pairs), raw: raw, checkSecret: true)
    }

    func outcomes(_ results: [Result<ConversionRecorder.Result, any Error>]) -> [String] {
        results.map { result in
            switch result {
            case .success(let r): r.outcome.rawValue
            case .failure(let error): (error as? HTTPError).map { "\($0.status)" } ?? "\(error)"
            }
        }
    }

    @Test func aBatchGetsEachPostbacksOwnOutcome() throws {
        let ids = try clicks()
        let c = try PostgresConnection(conninfo: TestEnvironment.databaseURL)
        let results = writer().recordTogether(
            [
                try item([("clickid", ids[0]), ("payout", "2"), ("status", "pending")]),
                try item([("clickid", ids[0]), ("payout", "2"), ("status", "pending")]),
                try item([("clickid", ids[0]), ("payout", "2"), ("status", "approved")]),
                try item([("clickid", ids[1]), ("payout", "3"), ("txid", "a")]),
            ], on: c)
        #expect(outcomes(results) == ["recorded", "duplicate", "updated", "recorded"])
        let stored = try database.query(
            "SELECT click_id, status FROM conversions WHERE click_id = ANY(\(ids)::text[]) ORDER BY click_id")
        #expect(stored.map { $0["status"] ?? "" } == ["approved", "approved"])
    }

    @Test func onePostbackThatFailsCostsTheOthersNothing() throws {
        let ids = try clicks()
        let address = "198.51.100.\(Int.random(in: 10...250))"
        #expect(limit.allow(address))  // its one unattributed postback is spent: the next is a 429
        let c = try PostgresConnection(conninfo: TestEnvironment.databaseURL)
        let results = writer().recordTogether(
            [
                try item([("clickid", ids[0]), ("payout", "2")]),
                try item([("clickid", "AGsOZZZZZZZZZZZZZZZZZZZ"), ("payout", "1")], from: address),
                try item([("clickid", ids[1]), ("payout", "3")]),
                try item([("clickid", ids[0]), ("payout", "2")]),
            ], on: c)
        #expect(outcomes(results) == ["recorded", "429", "recorded", "duplicate"])
        let conversions = try database.query("SELECT count(*) AS n FROM conversions WHERE click_id = ANY(\(ids)::text[])")
        #expect(conversions[0]["n"] == "2")
        // The ledger has the three that were recorded, once each (the rolled-back try left nothing).
        let ledger = try database.query("SELECT count(*) AS n FROM postbacks WHERE click_id = ANY(\(ids)::text[])")
        #expect(ledger[0]["n"] == "3")
    }

    /// A batch is written a statement per table: each postback still gets the outcome it gets
    /// after the ones before it, conversions and ledger rows take ids in arrival order, and a key
    /// stored before the batch is compared, not inserted again.
    @Test func aSetWiseBatchKeepsArrivalOrder() throws {
        let ids = try clicks()
        let c = try PostgresConnection(conninfo: TestEnvironment.databaseURL)
        let before = writer().recordTogether([try item([("clickid", ids[2]), ("payout", "1"), ("txid", "x")])], on: c)
        #expect(outcomes(before) == ["recorded"])
        let results = writer().recordTogether(
            [
                try item([("clickid", ids[0]), ("payout", "2"), ("txid", "c"), ("status", "pending")]),
                try item([("clickid", ids[1]), ("payout", "3"), ("txid", "b")]),
                try item([("clickid", ids[0]), ("payout", "2"), ("txid", "a")]),
                try item([("clickid", ids[2]), ("payout", "1"), ("txid", "x")]),
                try item([("clickid", ids[0]), ("payout", "2"), ("txid", "c"), ("status", "approved")]),
                try item([("clickid", "AGsOZZZZZZZZZZZZZZZZZZZ"), ("payout", "1")], from: "198.51.100.\(Int.random(in: 10...250))"),
                try item([("clickid", ids[1]), ("payout", "3"), ("txid", "b")]),
            ], on: c)
        #expect(outcomes(results) == ["recorded", "recorded", "recorded", "duplicate", "updated", "unattributed", "duplicate"])
        let postbackIDs = results.compactMap { try? $0.get().postbackID }
        #expect(postbackIDs.count == 7 && postbackIDs == postbackIDs.sorted() && Set(postbackIDs).count == 7)
        let stored = try database.query(
            "SELECT txid, status FROM conversions WHERE click_id = \(ids[0]) ORDER BY id")
        #expect(stored.map { "\($0["txid"] ?? "") \($0["status"] ?? "")" } == ["c approved", "a approved"])
        let ledger = try database.query(
            "SELECT outcome FROM postbacks WHERE id = ANY(\(postbackIDs)::bigint[]) ORDER BY id")
        #expect(ledger.map { $0["outcome"] ?? "" } == outcomes(results))
        let conversionIDs = try results.prefix(5).map { try #require(try $0.get().conversionID) }
        #expect(conversionIDs[0] == conversionIDs[4] && conversionIDs[0] < conversionIDs[2])
    }
}
