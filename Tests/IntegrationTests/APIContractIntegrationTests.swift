import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// What schemathesis (scripts/schemathesis.sh) found against docs/openapi.json, kept as tests:
/// lists whose cursor skipped rows, and NUL characters that PostgreSQL cannot keep.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct APIContractIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    /// An admin's token, and a new source in a new workspace with the parameter `zone`.
    func setUp() throws -> (api: TestHTTP, sourceID: Int) {
        let email = "contract-\(uniqueSuffix())@example.test"
        let store = UserStore(database: database)
        _ = try store.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        let workspaceID = try #require(
            try api.postJSON("/api/v1/workspaces", ["name": "Contract \(uniqueSuffix())", "currency": "EUR"]).json["id"] as? Int)
        let source = try api.postJSON(
            "/api/v1/traffic-sources",
            [
                "name": "Contract \(uniqueSuffix())", "workspace_id": workspaceID, "parameters": [["name": "zone", "token": "{zone}"]],
            ]
        ).json
        return (api, try #require(source["id"] as? Int))
    }

    /// Follows `next_cursor` from the first page to the last, collecting the ids.
    func allIDs(_ api: TestHTTP, _ path: String) throws -> [Int] {
        var ids: [Int] = []
        var cursor: String?
        for _ in 0..<20 {
            let page = try api.get(path + "&limit=2" + (cursor.map { "&cursor=" + $0 } ?? "")).json
            ids += (page["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            cursor = page["next_cursor"] as? String
            if cursor == nil { break }
        }
        return ids
    }

    // The first page came newest first while the cursor is "after this id": every page after
    // it repeated rows of the first and the older ones were never listed.
    @Test func followingTheSpendCursorListsEveryEntryOnce() throws {
        let (api, sourceID) = try setUp()
        let entries = (1...5).map {
            ["date": "2026-11-1\($0)", "traffic_source_id": sourceID, "amount": "\($0).00", "currency": "EUR"] as [String: Any]
        }
        #expect(try api.postJSON("/api/v1/spend", ["entries": entries]).status == 200)
        let ids = try allIDs(api, "/api/v1/spend?from=2026-11-10&to=2026-11-20&traffic_source_id=\(sourceID)")
        #expect(ids.count == 5 && Set(ids).count == 5)
        #expect(ids == ids.sorted())
    }

    // A `\u0000` in a JSON string reached jsonb (a source's parameter tokens): PostgreSQL
    // refused it and the API answered 500. It is a 400 now, and nothing changes.
    @Test func aNULInAJSONStringIsRefusedWith400() throws {
        let (api, sourceID) = try setUp()
        let patch = try api.send(
            "PATCH", "/api/v1/traffic-sources/\(sourceID)", headers: [("Content-Type", "application/json")],
            body: Array(#"{"parameters":[{"name":"zone","token":"a\u0000b"}]}"#.utf8))
        #expect(patch.status == 400)
        #expect((patch.json["error"] as? [String: Any])?["code"] as? String == "invalid_json")
        let source = try api.get("/api/v1/traffic-sources/\(sourceID)").json
        #expect((source["parameters"] as? [[String: Any]])?.first?["token"] as? String == "{zone}")
        // An escaped backslash before u0000 is plain text, not a NUL.
        let text = try api.send(
            "PATCH", "/api/v1/traffic-sources/\(sourceID)", headers: [("Content-Type", "application/json")],
            body: Array(#"{"notes":"a\\u0000b"}"#.utf8))
        #expect(text.status == 200)
        #expect(text.json["notes"] as? String == #"a\u0000b"#)
    }

    // A CSV spend file with a NUL byte in a parameter column made jsonb refuse the batch (500).
    @Test func aNULInASpendDimensionIsARowError() throws {
        let (api, sourceID) = try setUp()
        let csv = "date,traffic_source,campaign,amount,currency,zone\n2026-11-20,\(sourceID),,1.00,EUR,a\u{0}b\n"
        let response = try api.send("POST", "/api/v1/spend", headers: [("Content-Type", "text/csv")], body: Array(csv.utf8))
        #expect(response.status == 422)
        let errors = response.json["errors"] as? [[String: Any]] ?? []
        #expect(errors.contains { $0["field"] as? String == "zone" })
        let wrongType = try api.postJSON(
            "/api/v1/spend",
            [
                "entries": [
                    [
                        "date": "2026-11-20", "traffic_source_id": sourceID, "amount": "1",
                        "currency": "EUR", "dimensions": ["zone": true],
                    ]
                ]
            ])
        #expect(wrongType.status == 422)
    }
}
