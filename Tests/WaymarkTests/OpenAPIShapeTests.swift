import Accounts
import Catalog
import Conversions
import Deliveries
import Foundation
import HTTPClient
import Integrations
import Postgres
import Reports
import Spend
import Testing
import WaymarkCore
import WaymarkTesting
import Web

/// Every typed answer, encoded as `Response.json` sends it, against the schema docs/openapi.json
/// gives its operation's answer: no database, no network. (The answer types of the app module
/// are internal; OpenAPIShapeLiveTests checks them through the in-process app.)
@Suite struct OpenAPIShapeTests {
    static let checker = Result { try OpenAPISchemaChecker() }
    static let at = Date(timeIntervalSince1970: 1_790_000_000)

    /// `value` as `Response.json` writes it against the schema at `pointer` (an operation's answer,
    /// or a part of one).
    func expectShape(_ value: some Encodable, _ pointer: String, _ name: String = #function) throws {
        let checker = try Self.checker.get()
        let response = Response.json(value)
        #expect(response.status == 200, "\(name): \(type(of: value)) could not be encoded")
        let problems = checker.problems(response.body, against: pointer)
        #expect(problems.isEmpty, "\(type(of: value)) against \(pointer):\n\(problems.joined(separator: "\n"))")
    }

    func answer(_ method: String, _ path: String, _ status: String = "200") throws -> String {
        try Self.checker.get().answer(method, path, status)
    }

    /// The schema of one item of a list answer (`{"data":[…],"next_cursor":…}`).
    func item(_ path: String) throws -> String { try answer("GET", path) + "/properties/data/items" }

    @Test func theDocumentIsFoundAndHasTheOperations() throws {
        let checker = try Self.checker.get()
        #expect(checker.schema(at: try answer("GET", "/api/v1/campaigns/{id}")) != nil)
        #expect(checker.schema(at: "#/components/schemas/Error") != nil)
    }

    /// The checker itself: a wrong type, a missing key, an extra key, a null and an enum fail.
    @Test func theCheckerFindsWhatIsWrong() throws {
        let checker = try Self.checker.get()
        let pointer = "#/components/schemas/CostModel"
        #expect(checker.problems(Array(#"{"type":"cpc","amount":"0.01"}"#.utf8), against: pointer).isEmpty)
        let wrong = checker.problems(Array(#"{"type":"cpx","amount":1,"extra":true}"#.utf8), against: pointer)
        #expect(wrong.count == 3, "\(wrong)")
        #expect(wrong.contains { $0.hasPrefix("$.extra: not declared") })
        #expect(!checker.problems(Array(#"{"type":null}"#.utf8), against: pointer).isEmpty)
        #expect(!checker.problems(Array(#"{"clicks":true}"#.utf8), against: "#/components/schemas/ReportMetrics/properties/clicks").isEmpty)
    }

    /// `allOf` parts merge (a report row's dimension keys meet the part's `additionalProperties`);
    /// `anyOf` takes any branch.
    @Test func theCheckerMergesAllOfAndTriesAnyOf() throws {
        let checker = try Self.checker.get()
        let row = checker.problems(Array(#"{"zone":[1],"day":"2026-11-30"}"#.utf8), against: "#/components/schemas/ReportRow")
        #expect(row.contains { $0.hasPrefix("$.zone: is array") } && row.contains { $0.hasPrefix("$: lacks clicks") }, "\(row)")
        #expect(!row.contains { $0.hasPrefix("$.day") }, "\(row)")
        let epc = "#/components/schemas/ReportMetrics/properties/epc"
        #expect(checker.problems(Array("null".utf8), against: epc).isEmpty)
        #expect(checker.problems(Array(#""1.2500""#.utf8), against: epc).isEmpty)
        #expect(!checker.problems(Array(#""1,25""#.utf8), against: epc).isEmpty)
    }

    /// Every template of the library as `GET /api/v1/templates` lists it.
    @Test func templates() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../data/templates.json").path
        let library = try TemplateLibrary(path: path)
        #expect(library.templates.count > 20)
        for template in library.templates { try expectShape(TemplateJSON(template), try item("/api/v1/templates")) }
    }

    @Test func conversionReporting() throws {
        var reporting = ConversionReporting()
        try expectShape(reporting, "#/components/schemas/ConversionReporting")
        reporting.method = .capi
        reporting.integrationID = 7
        reporting.rules = SendBackRules(send: "first", events: ["sale", "lead"], reversals: true)
        try expectShape(reporting, "#/components/schemas/ConversionReporting")
    }

    static func conversion(txid: String?) -> ConversionRow {
        ConversionRow(
            id: 42, clickID: "c-1", campaignID: 7, campaignName: "Spring", sourceID: 3, sourceName: "TikTok", event: "sale", txid: txid,
            status: "approved", payout: "12.50", currency: "USD", convertedAt: at, updatedAt: at, clickedAt: at.addingTimeInterval(-60))
    }

    static func click(externalID: String?, parameters: [String: String]) -> ClickRow {
        ClickRow(
            id: "0123456789abcdefghijklm", clickedAt: at, campaignID: 7, campaignName: "Spring", sourceID: 3, sourceName: "TikTok",
            workspaceID: nil, ip: "203.0.113.9", userAgent: "", referrer: "", externalID: externalID, cost: "0.00", isBot: false,
            isUnique: true, country: "", device: "desktop", os: "", browser: "", destination: "https://shop.example/",
            parameters: parameters)
    }

    @Test func conversions() throws {
        for txid in ["T-1", nil] { try expectShape(Self.conversion(txid: txid), try item("/api/v1/conversions")) }
    }

    @Test func clickDetail() throws {
        let empty = ClickDetail(click: Self.click(externalID: nil, parameters: [:]), conversions: [])
        try expectShape(empty, try answer("GET", "/api/v1/clicks/{click_id}"))
        let full = ClickDetail(
            click: Self.click(externalID: "ext-9", parameters: ["zoneId": "9"]),
            conversions: [Self.conversion(txid: nil), Self.conversion(txid: "T")])
        try expectShape(full, try answer("GET", "/api/v1/clicks/{click_id}"))
    }

    @Test func spendEntries() throws {
        for (campaign, dimensions) in [(nil, [:]), (Int64(9), ["zone": "z-1"])] as [(Int64?, [String: String])] {
            let row = SpendRow(
                id: 1, day: "2026-11-30", sourceID: 3, sourceName: "Push", campaignID: campaign, campaignName: "", dimensions: dimensions,
                amount: "12.50", currency: "USD", origin: "api", updatedAt: Self.at, createdBy: "a@example.test")
            try expectShape(row, try item("/api/v1/spend"))
        }
    }

    @Test func spendFeedPreviewAndOutcome() throws {
        var outcome = SpendFeedRunner.Outcome(from: "2026-11-29", to: "2026-11-30")
        try expectShape(outcome, try answer("POST", "/api/v1/traffic-sources/{id}/spend-feeds/{feed}/preview"))
        outcome.httpStatus = 200
        outcome.read = 3
        outcome.imported = 2
        outcome.rejected = [SpendRowError(row: 3, field: "amount", message: "must not be negative")]
        outcome.entries = [
            SpendEntry(
                row: 1, day: "2026-11-29", sourceID: 3, sourceName: "Push", workspaceID: nil, campaignID: nil, dimensions: [:],
                amount: "1.25", currency: "USD"),
            SpendEntry(
                row: 2, day: "2026-11-30", sourceID: 3, sourceName: "Push", workspaceID: 1, campaignID: 9, dimensions: ["zone": "z"],
                amount: "3", currency: "EUR"),
        ]
        try expectShape(outcome, try answer("POST", "/api/v1/traffic-sources/{id}/spend-feeds/{feed}/preview"))
        outcome.error = "HTTP 500 from the feed"
        try expectShape(outcome, try answer("POST", "/api/v1/traffic-sources/{id}/spend-feeds/{feed}/preview"))
    }

    static func report(rows: [ReportRow], totals: Metrics.Sums, warnings: [String]) throws -> ReportAnswer {
        let request = try ReportRequest(
            Request(method: "GET", path: "/api/v1/reports", query: "from=2026-11-01&to=2026-11-30&group_by=day,traffic_source,param:zone"),
            defaults: (tz: "UTC", currency: "USD"))
        return ReportAnswer(ReportResult(request: request, rows: rows, totals: totals, warnings: warnings))
    }

    @Test func reports() throws {
        let pointer = try answer("GET", "/api/v1/reports")
        try expectShape(try Self.report(rows: [], totals: Metrics.Sums(), warnings: []), pointer)
        let sums = Metrics.Sums(
            clicks: 120, botClicks: 3, uniqueClicks: 100, impressions: 0, conversions: 7, pendingConversions: 1, declinedConversions: 0,
            revenue: Decimal(string: "84.5")!, cost: Decimal(string: "12.3456")!)
        let rows = [
            ReportRow(
                dimensions: [
                    "day": .text("2026-11-30"), "traffic_source_id": .id(3), "traffic_source_name": .text("Meta"), "zone": .text("z1"),
                ],
                sums: sums, labels: ["2026-11-30", "Meta", "z1"]),
            ReportRow(dimensions: ["traffic_source_id": .id(4), "traffic_source_name": .text("B")], sums: Metrics.Sums(), labels: ["B"]),
        ]
        try expectShape(try Self.report(rows: rows, totals: sums, warnings: ["no EUR→USD rate on 2026-11-29"]), pointer)
    }

    @Test func integrationAnswers() throws {
        let base = "/api/v1/traffic-sources/{id}/integrations/{provider}"
        try expectShape(AuthorizeJSON(authorizeURL: "https://accounts.example/o?state=x"), try answer("POST", base + "/connect"))
        try expectShape(TestResultJSON(ok: false, message: "the token was refused"), try answer("POST", base + "/{action}"))
        try expectShape(MappingsJSON([]), try answer("PUT", base + "/mappings"))
        try expectShape(
            MappingsJSON([.init(event: "sale", action: "Purchase", enabled: true), .init(event: "lead", action: "Lead", enabled: false)]),
            try answer("PUT", base + "/mappings"))
        try expectShape(HistoryJSON(syncs: [], pushes: []), try answer("GET", base + "/history"))
    }

    /// The webhook body as `WebhookPayload.body()` signs and sends it (its own encoder), against
    /// the document's `webhooks.conversion`.
    @Test func webhookPayload() throws {
        let checker = try Self.checker.get()
        let pointer = "#/webhooks/conversion/post/requestBody/content/application~1json/schema"
        for (recorded, externalID, txid, previous) in [(true, nil, nil, nil), (false, "ext-9", "T-1", "pending")]
            as [(Bool, String?, String?, String?)]
        {
            let click = ClickForConversion(
                id: "0123456789abcdefghijklm", clickedAt: Self.at, campaignID: 7, trafficSourceID: 3, workspaceID: 1,
                externalID: externalID,
                campaignCurrency: "USD", workspaceSecret: nil, parameters: [:])
            let input = try PostbackInput(
                [("clickid", click.id), ("payout", "12.50"), ("status", "approved")] + (txid.map { [("txid", $0)] } ?? []))
            let payload = WebhookPayload(
                recorded: recorded, conversionID: 42, click: click, input: input, currency: "USD", previousStatus: previous, sentAt: Self.at
            )
            let problems = checker.problems(Array(try payload.body().utf8), against: pointer)
            #expect(problems.isEmpty, "WebhookPayload against \(pointer):\n\(problems.joined(separator: "\n"))")
        }
    }
}

extension OpenAPIShapeTests {
    /// The answers of the app module's own types (lists, workspaces, created clicks, spend, errors)
    /// as the in-process app sends them, each against its operation's schema.
    @Suite(.needsStack, .inProcess, .timeLimit(.minutes(3)), .serialized) struct Live {
        let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

        func expectShape(
            _ r: HTTPResponse, _ method: String, _ path: String, _ status: Int = 200, schema: String? = nil
        ) throws {
            let checker = try OpenAPIShapeTests.checker.get()
            #expect(r.status == status, "\(method) \(path): \(r.status) \(String(decoding: r.body, as: UTF8.self))")
            let pointer = schema ?? checker.answer(method, path, String(status))
            let problems = checker.problems(r.body, against: pointer)
            #expect(problems.isEmpty, "\(method) \(path) against \(pointer):\n\(problems.joined(separator: "\n"))")
        }

        func api() throws -> TestHTTP {
            let email = "shape-\(uniqueSuffix())@example.test"
            _ = try UserStore(database: database).create(email: email, password: "correct-horse-42", role: .admin)
            var api = TestHTTP()
            api.headers = [("Authorization", "Bearer " + (try APITokenStore(database: database).create(email: email, name: "t")))]
            return api
        }

        @Test func workspacesSourcesCampaignsAndClicks() throws {
            let api = try api()
            let w = try api.postJSON("/api/v1/workspaces", ["name": "Shape \(uniqueSuffix())", "postback_secret": "s3cret-shape"])
            try expectShape(w, "POST", "/api/v1/workspaces", 201)
            let workspace = try #require(w.json["id"] as? Int)
            try expectShape(try api.get("/api/v1/workspaces"), "GET", "/api/v1/workspaces")
            try expectShape(try api.get("/api/v1/workspaces/\(workspace)"), "GET", "/api/v1/workspaces/{id}")
            try expectShape(try api.get("/api/v1/templates"), "GET", "/api/v1/templates")
            let s = try api.postJSON(
                "/api/v1/traffic-sources",
                ["name": "Shape \(uniqueSuffix())", "workspace_id": workspace, "parameters": [["name": "zone", "token": "{zone}"]]])
            try expectShape(s, "POST", "/api/v1/traffic-sources", 201)
            let source = try #require(s.json["id"] as? Int)
            try expectShape(try api.get("/api/v1/traffic-sources"), "GET", "/api/v1/traffic-sources")
            try expectShape(try api.get("/api/v1/traffic-sources/\(source)"), "GET", "/api/v1/traffic-sources/{id}")
            let c = try api.postJSON(
                "/api/v1/campaigns",
                ["name": "Shape C", "traffic_source_id": source, "destination_url": "https://offer.example/?c={clickid}"])
            try expectShape(c, "POST", "/api/v1/campaigns", 201)
            let campaign = try #require(c.json["id"] as? Int)
            try expectShape(try api.get("/api/v1/campaigns?traffic_source_id=\(source)"), "GET", "/api/v1/campaigns")
            try expectShape(try api.get("/api/v1/campaigns/\(campaign)"), "GET", "/api/v1/campaigns/{id}")
            let click = try api.postJSON(
                "/api/v1/clicks", ["campaign_key": try #require(c.json["key"] as? String), "parameters": ["zone": "z1"]])
            try expectShape(click, "POST", "/api/v1/clicks", 201)
            let id = try #require(click.json["click_id"] as? String)
            // A click the writer had to spool (its connection lost to an earlier test's database
            // restart) shows once replayed: wait for it rather than for the first answer.
            _ = waitUntil(seconds: 15) { (try? api.get("/api/v1/clicks/\(id)"))?.status == 200 }
            try expectShape(try api.get("/api/v1/clicks/\(id)"), "GET", "/api/v1/clicks/{click_id}")
            try expectShape(try api.get("/api/v1/conversions"), "GET", "/api/v1/conversions")
            try expectShape(try api.get("/api/v1/reports?group_by=day,campaign,param:zone"), "GET", "/api/v1/reports")
            let integrations = "/api/v1/traffic-sources/\(source)/integrations"
            try expectShape(try api.get(integrations), "GET", "/api/v1/traffic-sources/{id}/integrations")
            try expectShape(try api.get(integrations + "/meta"), "GET", "/api/v1/traffic-sources/{id}/integrations/{provider}")
            try expectShape(
                try api.get(integrations + "/meta/history"), "GET", "/api/v1/traffic-sources/{id}/integrations/{provider}/history")
            try expectShape(
                try api.get(integrations + "/meta/metrics"), "GET", "/api/v1/traffic-sources/{id}/integrations/{provider}/metrics")
            try spend(api, source: source, campaign: campaign)
        }

        func spend(_ api: TestHTTP, source: Int, campaign: Int) throws {
            let day = String(RFC3339.string(from: Date()).prefix(10))
            let entries: [[String: Any]] = [
                ["date": day, "traffic_source_id": source, "amount": "1.50", "currency": "USD"],
                [
                    "date": day, "traffic_source_id": source, "campaign_id": campaign, "dimensions": ["zone": "z1"], "amount": "2",
                    "currency": "USD",
                ],
            ]
            try expectShape(try api.postJSON("/api/v1/spend", ["entries": entries]), "POST", "/api/v1/spend")
            let bad = try api.postJSON(
                "/api/v1/spend", ["entries": [["date": day, "traffic_source_id": source, "amount": "-1", "currency": "USD"]]])
            try expectShape(bad, "POST", "/api/v1/spend", 422)
            try expectShape(try api.get("/api/v1/spend?traffic_source_id=\(source)"), "GET", "/api/v1/spend")
        }

        @Test func spendFeedsAndTheirRuns() throws {
            let api = try api()
            let source = try #require(try api.postJSON("/api/v1/traffic-sources", ["name": "Feed \(uniqueSuffix())"]).json["id"] as? Int)
            let listener = try TestListener { _ in (200, "Day,Spend\r\n2026-11-30,1.25\r\n", 0) }
            let base = "/api/v1/traffic-sources/{id}/spend-feeds"
            let f = try api.postJSON(
                "/api/v1/traffic-sources/\(source)/spend-feeds",
                [
                    "name": "Shape feed", "url": listener.url + "/f.csv", "format": "csv", "schedule": ["daily_at": "06:00"],
                    "headers": ["Authorization": "Bearer X"], "mapping": ["date": "Day", "amount": "Spend", "fixed_currency": "USD"],
                ])
            try expectShape(f, "POST", base, 201)
            let path = "/api/v1/traffic-sources/\(source)/spend-feeds/\(try #require(f.json["id"] as? Int))"
            try expectShape(try api.get("/api/v1/traffic-sources/\(source)/spend-feeds"), "GET", base)
            try expectShape(try api.get(path), "GET", base + "/{feed}")
            try expectShape(try api.get(path + "/runs"), "GET", base + "/{feed}/runs")
            try expectShape(try api.postJSON(path + "/preview", [String: Any]()), "POST", base + "/{feed}/preview")
            try expectShape(try api.postJSON(path + "/run", [String: Any]()), "POST", base + "/{feed}/run")
            try expectShape(try api.get(path + "/runs"), "GET", base + "/{feed}/runs")
        }

        /// `/healthz` is outside the API: its answer is the document's `Health` schema.
        @Test func health() throws {
            try expectShape(try TestHTTP().get("/healthz"), "GET", "/healthz", schema: "#/components/schemas/Health")
        }

        /// The error envelope: `fields` for a body, `field` for a query parameter, neither for a 404.
        @Test func errors() throws {
            let api = try api()
            let error = "#/components/schemas/Error"
            let missing = try api.get("/api/v1/campaigns/999999999")
            try expectShape(missing, "GET", "/api/v1/campaigns/{id}", 404, schema: error)
            let invalid = try api.postJSON("/api/v1/campaigns", [String: Any]())
            try expectShape(invalid, "POST", "/api/v1/campaigns", 422, schema: error)
            #expect(invalid.json["error"].flatMap { ($0 as? [String: Any])?["fields"] } != nil)
            let badQuery = try api.get("/api/v1/reports?tz=Nowhere/Else")
            try expectShape(badQuery, "GET", "/api/v1/reports", 400, schema: error)
            #expect((badQuery.json["error"] as? [String: Any])?["field"] as? String == "tz")
        }
    }
}
