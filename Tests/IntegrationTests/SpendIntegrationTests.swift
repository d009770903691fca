import Accounts
import Foundation
import Glibc
import HTTPClient
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Spend by JSON, CSV (API and upload page) and by hand, and the FX rates it converts with.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct SpendIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    struct Fixture {
        var api: TestHTTP
        var email: String
        var workspaceID: Int
        var sourceID: Int
        var sourceName: String
        var campaignID: Int
        var campaignKey: String
    }

    /// A member of a new EUR workspace with a custom source (parameter `sub_source`) and a campaign.
    func setUp(role: Role = .admin) throws -> Fixture {
        let email = "spend-\(uniqueSuffix())@example.test"
        let store = UserStore(database: database)
        let workspaceName = "Spend \(uniqueSuffix())"
        var admin = TestHTTP()
        let adminEmail = "spend-admin-\(uniqueSuffix())@example.test"
        _ = try store.create(email: adminEmail, password: "correct-horse-42", role: .admin)
        admin.headers = [("Authorization", "Bearer " + (try store.createToken(email: adminEmail, name: "t")))]
        let workspaceID = try #require(
            try admin.postJSON("/api/v1/workspaces", ["name": workspaceName, "timezone": "UTC", "currency": "EUR"]).json["id"] as? Int)
        _ = try store.create(email: email, password: "correct-horse-42", role: role, workspaces: role == .admin ? [] : [workspaceName])
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        let sourceName = "Email list, weekly \(uniqueSuffix())"
        let source = try admin.postJSON(
            "/api/v1/traffic-sources",
            [
                "name": sourceName, "workspace_id": workspaceID, "cost_currency": "EUR",
                "parameters": [["name": "sub_source", "token": "{zone}"]],
            ]
        ).json
        let sourceID = try #require(source["id"] as? Int)
        let campaign = try admin.postJSON(
            "/api/v1/campaigns", ["name": "Weekly send", "traffic_source_id": sourceID, "destination_url": "https://o.example/"]
        ).json
        return Fixture(
            api: api, email: email, workspaceID: workspaceID, sourceID: sourceID, sourceName: sourceName,
            campaignID: try #require(campaign["id"] as? Int), campaignKey: try #require(campaign["key"] as? String))
    }

    func entries(_ f: Fixture) throws -> [(day: String, campaign: Int?, dims: String, amount: String, currency: String, origin: String)] {
        try database.query(
            """
            SELECT day::text AS day, campaign_id, dimensions::text AS dims, amount::text AS amount, currency, origin
            FROM spend_entries WHERE traffic_source_id = \(f.sourceID) ORDER BY day, campaign_id NULLS FIRST, dims
            """
        ).map {
            (
                try $0.decode("day"), try $0.decode("campaign_id", as: Int?.self), try $0.decode("dims"), try $0.decode("amount"),
                try $0.decode("currency"), try $0.decode("origin")
            )
        }
    }

    func postCSV(_ api: TestHTTP, _ text: String) throws -> HTTPResponse {
        try api.send("POST", "/api/v1/spend", headers: [("Content-Type", "text/csv")], body: Array(text.utf8))
    }

    @Test func postingTheSameSpendTwiceLeavesOneEntry() throws {
        let f = try setUp()
        let batch: [String: Any] = [
            "entries": [
                ["date": "2026-11-20", "traffic_source_id": f.sourceID, "amount": "120.50", "currency": "EUR"],
                [
                    "date": "2026-11-20", "traffic_source_id": f.sourceID, "campaign_id": f.campaignID,
                    "dimensions": ["sub_source": "site-42"], "amount": "30", "currency": "EUR",
                ],
            ]
        ]
        let first = try f.api.postJSON("/api/v1/spend", batch)
        #expect(first.status == 200, "\(first.text)")
        #expect(first.json["created"] as? Int == 2)
        var again = batch
        var list = batch["entries"] as! [[String: Any]]
        list[0]["amount"] = "99.99"
        again["entries"] = list
        let second = try f.api.postJSON("/api/v1/spend", again)
        #expect(second.json["replaced"] as? Int == 2)
        let stored = try entries(f)
        #expect(stored.count == 2)
        #expect(stored[0].amount == "99.990000" && stored[0].campaign == nil && stored[0].origin == "api")
        #expect(stored[1].dims == #"{"sub_source": "site-42"}"#)
        let listed = try f.api.get("/api/v1/spend?from=2026-11-20&to=2026-11-20&traffic_source_id=\(f.sourceID)").json
        #expect((listed["data"] as? [[String: Any]])?.count == 2)
        #expect((listed["totals"] as? [String: String])?["EUR"] == "129.99")
    }

    @Test func everyBadRowIsListedAndNothingIsStored() throws {
        let f = try setUp()
        try database.query("DELETE FROM fx_rates WHERE currency = 'ISK'")
        let response = try f.api.postJSON(
            "/api/v1/spend",
            [
                "entries": [
                    ["date": "2026-11-20", "traffic_source_id": f.sourceID, "amount": "10", "currency": "EUR"],  // fine, but not stored
                    ["date": "2026-13-01", "traffic_source_id": f.sourceID, "amount": "10", "currency": "EUR"],  // 2: bad date
                    ["date": "2026-11-20", "traffic_source_id": 999_999_999, "amount": "10", "currency": "EUR"],  // 3: unknown source
                    ["date": "2026-11-20", "traffic_source_id": f.sourceID, "amount": "-5", "currency": "EUR"],  // 4: negative
                    ["date": "2026-11-20", "traffic_source_id": f.sourceID, "amount": "12,50", "currency": "EUR"],  // 5: not a number
                    ["date": "2026-11-20", "traffic_source_id": f.sourceID, "amount": "10", "currency": "XXY"],  // 6: unknown currency
                    ["date": "2026-11-20", "traffic_source_id": f.sourceID, "amount": "10", "currency": "ISK"],  // 7: no rate at all
                    [
                        "date": "2026-11-20", "traffic_source_id": f.sourceID, "amount": "10", "currency": "EUR",
                        "dimensions": ["zone": "1"],
                    ],  // 8
                ]
            ])
        #expect(response.status == 422)
        let errors = try #require(response.json["errors"] as? [[String: Any]])
        let found = Set(errors.map { "\($0["row"] as? Int ?? 0):\($0["field"] as? String ?? "")" })
        #expect(found == ["2:date", "3:traffic_source", "4:amount", "5:amount", "6:currency", "7:currency", "8:zone"])
        #expect(
            errors.first { $0["row"] as? Int == 7 }?["message"] as? String
                == "no FX rate for ISK at all: import rates first (FX rates page or `waymark fx import`)")
        #expect(try entries(f).isEmpty)
    }

    @Test func csvEdgeCasesThroughTheAPI() throws {
        let f = try setUp()
        // BOM, CRLF, a quoted name with a comma, a quoted amount, an empty line, a campaign by key
        // and by name, and a parameter column.
        let csv =
            "\u{FEFF}date,traffic_source,campaign,amount,currency,sub_source\r\n"
            + "2026-11-18,\"\(f.sourceName)\",,\"10.25\",eur,\r\n"
            + "\r\n"
            + "2026-11-18,\(f.sourceID),\(f.campaignKey),5,EUR,\"site, 7\"\r\n"
            + "2026-11-19,\(f.sourceID),Weekly send,1.5,EUR,\r\n"
        let response = try postCSV(f.api, csv)
        #expect(response.status == 200, "\(response.text)")
        #expect(response.json["stored"] as? Int == 3)
        let stored = try entries(f)
        #expect(stored.map(\.amount) == ["10.250000", "5.000000", "1.500000"])
        #expect(stored[1].dims == #"{"sub_source": "site, 7"}"#)
        #expect(stored[2].campaign == f.campaignID && stored[0].origin == "csv")
        // A bad CSV row is named by its row number.
        let bad = try postCSV(f.api, "date,traffic_source,campaign,amount,currency\n2026-11-18,\(f.sourceID),,abc,EUR\n")
        #expect(bad.status == 422)
        #expect((bad.json["errors"] as? [[String: Any]])?.first?["row"] as? Int == 1)
        #expect(try postCSV(f.api, "when,where\n1,2\n").status == 422)
    }

    @Test func aHundredThousandRowFileImportsWhole() throws {
        let f = try setUp()
        var csv = "date,traffic_source,campaign,amount,currency,sub_source\n"
        csv.reserveCapacity(5_000_000)
        for i in 0..<100_000 { csv += "2026-11-01,\(f.sourceID),,0.01,EUR,site-\(i)\n" }
        let started = Date()
        let response = try postCSV(f.api, csv)
        let seconds = Date().timeIntervalSince(started)
        #expect(response.status == 200, "\(response.text.prefix(300))")
        let row = try database.query(
            "SELECT count(*)::int AS n, sum(amount)::text AS total FROM spend_entries WHERE traffic_source_id = \(f.sourceID)")[0]
        #expect(try row.decode("n", as: Int.self) == 100_000)
        #expect(row["total"] == "1000.000000")
        print("100 000-row CSV imported in \(String(format: "%.1f", seconds)) s")
    }

    @Test func fxImportFromTheECBAndConversionAtTheRightDate() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
            \t<gesmes:subject>Reference rates</gesmes:subject>
            \t<gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
            \t<Cube>
            \t\t<Cube time='2001-03-05'><Cube currency='NZD' rate='2.1000'/><Cube currency='SEK' rate='9.0'/></Cube>
            \t\t<Cube time='2001-03-02'><Cube currency='NZD' rate='2.0000'/><Cube currency='SEK' rate='8.5'/></Cube>
            \t</Cube>
            </gesmes:Envelope>
            """
        let path = TestEnvironment.varDirectory + "/ecb-test.xml"
        try xml.write(toFile: path, atomically: true, encoding: .utf8)
        let binary = FileManager.default.currentDirectoryPath + "/.build/release/waymark"
        #expect(try runProgram(binary, ["fx", "import", path], environment: ["WAYMARK_VAR": TestEnvironment.varDirectory]) == 0)
        let csvPath = TestEnvironment.varDirectory + "/fx-test.csv"
        try "date,currency,rate\n2001-03-06,NZD,2.2\n".write(toFile: csvPath, atomically: true, encoding: .utf8)
        #expect(try runProgram(binary, ["fx", "import", csvPath], environment: ["WAYMARK_VAR": TestEnvironment.varDirectory]) == 0)
        func convert(_ amount: String, _ from: String, _ to: String, _ day: String) throws -> String? {
            try database.query("SELECT round(waymark_convert(\(amount)::numeric, \(from), \(to), \(day)::date), 4)::text AS v")[0]["v"]
        }
        #expect(try convert("21", "NZD", "EUR", "2001-03-05") == "10.0000")  // its date's rate
        #expect(try convert("20", "NZD", "EUR", "2001-03-04") == "10.0000")  // the latest earlier (03-02)
        #expect(try convert("22", "NZD", "EUR", "2001-03-07") == "10.0000")  // the CSV's 03-06 rate
        #expect(try convert("10", "EUR", "SEK", "2001-03-05") == "90.0000")
        #expect(try convert("21", "NZD", "SEK", "2001-03-05") == "90.0000")
        #expect(try convert("21", "NZD", "EUR", "2001-03-01") == nil)  // no rate yet: NULL, never 1:1
        // A malformed file is refused with a message and changes nothing.
        try "<Cube><Cube currency='NZD' rate='x'/>".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try runProgram(binary, ["fx", "import", path], environment: ["WAYMARK_VAR": TestEnvironment.varDirectory]) != 0)
    }

    @Test func spendIsIsolatedByWorkspace() throws {
        let mine = try setUp(role: .member)
        let theirs = try setUp(role: .member)
        let response = try mine.api.postJSON(
            "/api/v1/spend", ["entries": [["date": "2026-11-20", "traffic_source_id": theirs.sourceID, "amount": "1", "currency": "EUR"]]])
        #expect(response.status == 422)
        #expect((response.json["errors"] as? [[String: Any]])?.first?["field"] as? String == "traffic_source")
        #expect(
            try theirs.api.postJSON(
                "/api/v1/spend",
                ["entries": [["date": "2026-11-20", "traffic_source_id": theirs.sourceID, "amount": "1", "currency": "EUR"]]]
            ).status == 200)
        // (Public sources' spend is everyone's: only the other workspace's must not show.)
        let listed = try mine.api.get("/api/v1/spend?from=2026-11-20&to=2026-11-20").json
        let data = try #require(listed["data"] as? [[String: Any]])
        #expect(!data.contains { $0["traffic_source_id"] as? Int == theirs.sourceID })
        let theirList = try theirs.api.get("/api/v1/spend?from=2026-11-20&to=2026-11-20").json["data"] as? [[String: Any]]
        #expect(theirList?.contains { $0["traffic_source_id"] as? Int == theirs.sourceID } == true)
    }

    @Test func theUploadPagePreviewsThenImports() throws {
        let f = try setUp()
        let browser = TestBrowser()
        _ = try browser.login(f.email, "correct-horse-42")
        _ = try browser.get("/spend/upload")
        let bad =
            ("date,traffic_source,campaign,amount,currency\n2026-11-20,\(f.sourceID),,10,EUR\n2026-11-20,nope,,10,EUR\n"
                + "2026-11-21,\(f.sourceID),,ten,EUR\n")
        let preview = try browser.upload("/spend/upload", file: ("file", "push.csv", Array(bad.utf8)))
        #expect(preview.status == 200)
        #expect(preview.text.contains("3 rows, 1 accepted, 2 rejected"))
        #expect(preview.text.contains("no traffic source &quot;nope&quot; that you may change"))
        #expect(!preview.text.contains("/confirm"))
        #expect(try entries(f).isEmpty)
        _ = try browser.get("/spend/upload")
        let good = "date,traffic_source,campaign,amount,currency\n2026-11-20,\(f.sourceID),,10,EUR\n2026-11-21,\(f.sourceID),,11,EUR\n"
        let ok = try browser.upload("/spend/upload", file: ("file", "push.csv", Array(good.utf8)))
        #expect(ok.text.contains("2 accepted, 0 rejected"))
        let range = try #require(ok.text.range(of: #"/spend/uploads/[0-9]+/confirm"#, options: .regularExpression))
        let confirm = String(ok.text[range])
        #expect(try browser.post(confirm, []).status == 303)
        #expect(try entries(f).map(\.amount) == ["10.000000", "11.000000"])
        let progress = try browser.get(confirm.replacingOccurrences(of: "/confirm", with: "/progress")).json
        #expect(progress["state"] as? String == "imported" && progress["done"] as? Int == 2)
        #expect(try browser.post(confirm, []).status == 303)  // a second confirm imports nothing more
        #expect(try entries(f).count == 2)
        #expect(try browser.get("/spend/example.csv").text.hasPrefix("date,traffic_source,campaign,amount,currency"))
    }

    @Test func manualEntrySpreadsAPeriodEvenly() throws {
        let f = try setUp()
        let browser = TestBrowser()
        _ = try browser.login(f.email, "correct-horse-42")
        _ = try browser.get("/spend/new")
        let fields = [
            ("traffic_source_id", String(f.sourceID)), ("campaign_id", String(f.campaignID)), ("parameter", "sub_source"),
            ("parameter_value", "list-a"), ("from", "2026-11-01"), ("to", "2026-11-03"), ("amount", "100"), ("currency", "EUR"),
        ]
        let preview = try browser.post("/spend/new", fields + [("action", "preview")])
        #expect(preview.status == 200)
        #expect(preview.text.contains("Spread over 3 days"))
        #expect(try entries(f).isEmpty)
        #expect(try browser.post("/spend/new", fields + [("action", "save")]).status == 303)
        let stored = try entries(f)
        #expect(stored.map(\.amount) == ["33.330000", "33.330000", "33.340000"])
        #expect(stored.allSatisfy { $0.origin == "manual" && $0.campaign == f.campaignID })
        let invalid = try browser.post(
            "/spend/new",
            [
                ("traffic_source_id", String(f.sourceID)), ("from", "2026-11-05"), ("to", "2026-11-01"),
                ("amount", "5"), ("currency", "EUR"), ("action", "save"),
            ])
        #expect(invalid.status == 422)
        #expect(invalid.text.contains("is before the start"))
    }
}
