import Accounts
import Catalog
import Foundation
import HTTPClient
import Postgres
import Synchronization
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Campaign-level conversion reporting through nginx, PostgreSQL, the worker, a local
/// listener (the S2S postback receiver) and the Meta fake: inherit the source's method, or
/// override it with the campaign's own postback URL, Conversion-API integration, or none.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct CampaignReportingIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP.tracking()

    func api() throws -> (TestHTTP, Int, String) {
        let email = "rep-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        _ = try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let workspace = try #require(
            try api.postJSON("/api/v1/workspaces", ["name": "R \(uniqueSuffix())", "timezone": "UTC", "currency": "USD"]).json["id"] as? Int
        )
        return (api, workspace, email)
    }

    func campaign(_ api: TestHTTP, _ source: Int, _ name: String, reporting: [String: Any]? = nil) throws -> (
        id: Int, key: String, json: [String: Any]
    ) {
        var body: [String: Any] = ["name": name, "traffic_source_id": source, "destination_url": "https://offer.example/lp?c={clickid}"]
        if let reporting { body["conversion_reporting"] = reporting }
        let r = try api.postJSON("/api/v1/campaigns", body)
        #expect(r.status == 201, "\(r.text)")
        return (try #require(r.json["id"] as? Int), try #require(r.json["key"] as? String), r.json)
    }

    /// A click and its postback; the conversion id.
    func convert(_ key: String, _ query: String = "", event: String = "conversion") throws -> (click: String, conversion: String) {
        let r = try tracking.get("/c/\(key)" + (query.isEmpty ? "" : "?" + query))
        let click = try #require(r.header("location")?.components(separatedBy: "c=").last)
        let posted = try tracking.get("/postback?clickid=\(click)&payout=20&event=\(event)&txid=T\(uniqueSuffix())")
        #expect(posted.json["status"] as? String == "recorded", "\(posted.text)")
        return (click, try #require(posted.json["conversion_id"] as? String))
    }

    func deliveries(click: String) throws -> [(kind: String, url: String, state: String)] {
        try database.query("SELECT kind, url, state FROM deliveries WHERE click_id = \(click) ORDER BY id").map {
            ($0["kind"] ?? "", $0["url"] ?? "", $0["state"] ?? "")
        }
    }

    @Test func postbackInheritanceOverrideNoneAndQueuedDeliveriesKeepTheirMethod() throws {
        // The old URL fails (500) until the source has changed: its retry comes after the change.
        let failing = Mutex(true)
        let listener = try TestListener { received in
            received.target.hasPrefix("/old") && failing.withLock { $0 } ? (500, "busy", 0) : (200, "ok", 0)
        }
        let (api, workspace, _) = try api()
        let source = try #require(
            try api.postJSON(
                "/api/v1/traffic-sources",
                [
                    "name": "E-mail list \(uniqueSuffix())", "workspace_id": workspace, "cost_currency": "USD",
                    "postback": ["enabled": true, "url": listener.url + "/old?c={clickid}&p={payout}"],
                ]
            ).json["id"] as? Int)
        let inherit = try campaign(api, source, "Inherits")
        let own = try campaign(
            api, source, "Own URL",
            reporting: ["method": "postback", "postback_url": listener.url + "/own?c={clickid}&p={payout}", "payout_percent": "50"])
        let silent = try campaign(api, source, "Silent", reporting: ["method": "none"])
        #expect((inherit.json["conversion_reporting"] as? [String: Any])?["method"] as? String == "source")
        let effective = try #require(inherit.json["conversion_reporting_effective"] as? [String: Any])
        #expect(effective["from"] as? String == "traffic_source")
        #expect((effective["description"] as? String ?? "").contains("From traffic source E-mail list"), "\(effective)")
        #expect((own.json["conversion_reporting_effective"] as? [String: Any])?["from"] as? String == "campaign")
        // Bad input: a postback method without a URL, an unknown method.
        let bad = try api.postJSON(
            "/api/v1/campaigns",
            [
                "name": "X", "traffic_source_id": source, "destination_url": "https://o.example/?c={clickid}",
                "conversion_reporting": ["method": "postback", "send": "some"],
            ])
        #expect(bad.status == 422)
        let fields = (bad.json["error"] as? [String: Any])?["fields"] as? [String: String] ?? [:]
        #expect(fields["conversion_reporting.postback_url"] != nil && fields["conversion_reporting.send"] != nil, "\(fields)")

        let a = try convert(inherit.key)
        let b = try convert(own.key)
        let c = try convert(silent.key)
        #expect(waitUntil(seconds: 15) { listener.requests.contains { $0.target.hasPrefix("/own?c=\(b.click)&p=10") } })
        #expect(waitUntil(seconds: 15) { listener.requests.contains { $0.target.hasPrefix("/old?c=\(a.click)&p=20") } })
        #expect(try deliveries(click: c.click).filter { $0.kind == "postback" }.isEmpty, "the 'none' campaign sent a postback")

        // The source moves to a new URL while A's delivery waits for its retry.
        let patched = try api.sendJSON(
            "PATCH", "/api/v1/traffic-sources/\(source)", ["postback": ["enabled": true, "url": listener.url + "/new?c={clickid}"]])
        #expect(patched.status == 200, "\(patched.text)")
        failing.withLock { $0 = false }
        #expect(waitUntil(seconds: 15) { (try? deliveries(click: a.click).first?.state) == "delivered" })
        #expect(try deliveries(click: a.click).first?.url.contains("/old?c=") == true, "a queued delivery keeps the URL it was queued with")
        // New conversions: the inheriting campaign follows the source, the overriding one does not.
        let a2 = try convert(inherit.key)
        let b2 = try convert(own.key)
        #expect(waitUntil(seconds: 15) { listener.requests.contains { $0.target == "/new?c=\(a2.click)" } })
        #expect(waitUntil(seconds: 15) { listener.requests.contains { $0.target.hasPrefix("/own?c=\(b2.click)") } })
        #expect(!listener.requests.contains { $0.target.contains(c.click) })
        // Both changes are in the audit log.
        let audited = try database.query(
            """
            SELECT object_type, action FROM audit_log WHERE (object_type = 'traffic_source' AND object_id = \(String(source)))
               OR (object_type = 'campaign' AND object_id = \(String(own.id))) ORDER BY id
            """
        ).map { "\($0["object_type"] ?? ""):\($0["action"] ?? "")" }
        #expect(audited.contains("traffic_source:update") && audited.contains("campaign:create"), "\(audited)")
    }

    /// Connects the Meta fake to a new Facebook source with `pixel`, mapping `conversion`.
    func connectMeta(_ api: TestHTTP, workspace: Int, pixel: String) throws -> (source: Int, integration: Int) {
        let source = try #require(
            try api.postJSON(
                "/api/v1/traffic-sources", ["name": "Meta \(pixel) \(uniqueSuffix())", "workspace_id": workspace, "template": "facebook"]
            ).json["id"] as? Int)
        let url = try #require(
            try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/meta/connect").json["authorize_url"] as? String)
        let location = try TestFake("meta").authorize(url)
        let pending = try api.get(String(location.dropFirst(TestEnvironment.baseURL.count)).replacingOccurrences(of: "#_=_", with: ""))
        #expect(pending.json["status"] as? String == "pending_account_selection", "\(pending.text)")
        #expect(
            try api.sendJSON("PATCH", "/api/v1/traffic-sources/\(source)/integrations/meta", ["pixel_id": pixel, "sync_direction": "push"])
                .status == 200)
        let active = try api.sendJSON(
            "POST", "/api/v1/traffic-sources/\(source)/integrations/meta/select-account", ["account_id": "act_123456789"])
        #expect(active.json["status"] as? String == "active", "\(active.text)")
        #expect(
            try api.sendJSON(
                "PUT", "/api/v1/traffic-sources/\(source)/integrations/meta/mappings",
                ["mappings": [["event": "conversion", "provider_action": "Purchase", "enabled": true]]]
            ).status == 200)
        return (source, try #require(active.json["id"] as? Int))
    }

    @Test func twoCampaignsOnOneMetaSourceReportToTwoPixelsAndAThirdToNothing() throws {
        let fake = TestFake("meta")
        try fake.reset()
        let (api, workspace, email) = try api()
        let main = try connectMeta(api, workspace: workspace, pixel: "111111")
        let second = try connectMeta(api, workspace: workspace, pixel: "222222")
        let first = try campaign(api, main.source, "Pixel one (inherits)")
        let other = try campaign(api, main.source, "Pixel two", reporting: ["method": "capi", "integration_id": second.integration])
        let none = try campaign(api, main.source, "Reports nothing", reporting: ["method": "none"])
        // The pages say which method is in effect and where it comes from.
        let browser = TestBrowser()
        _ = try browser.login(email, "correct-horse-42")
        #expect(try browser.get("/campaigns/\(first.id)").text.contains("From traffic source Meta 111111"))
        #expect(try browser.get("/campaigns/\(other.id)").text.contains("own setting: Conversion API (meta on Meta 222222"))
        #expect(try browser.get("/campaigns/\(none.id)").text.contains("nothing is reported back"))

        let one = try convert(first.key, "fbclid=FB1")
        let two = try convert(other.key, "fbclid=FB2")
        let three = try convert(none.key, "fbclid=FB3")
        func pixel(_ conversion: String) -> String? {
            (try? fake.receivedEvents())?.first { ($0["event"] as? [String: Any])?["event_id"] as? String == conversion }?[
                "account_or_pixel"] as? String
        }
        #expect(waitUntil(seconds: 20) { pixel(one.conversion) != nil && pixel(two.conversion) != nil })
        #expect(pixel(one.conversion) == "111111")
        #expect(pixel(two.conversion) == "222222")
        let queued = try deliveries(click: three.click)
        #expect(queued.isEmpty, "the 'none' campaign queued \(queued)")

        // Warnings: the inherited integration paused; an event with no mapping.
        #expect(
            try api.sendJSON("POST", "/api/v1/traffic-sources/\(main.source)/integrations/meta/pause").json["status"] as? String == "paused"
        )
        let warned = try api.get("/api/v1/campaigns/\(first.id)").json["conversion_reporting_effective"] as? [String: Any]
        #expect((warned?["warnings"] as? [String] ?? []).contains { $0.contains("is paused") }, "\(warned ?? [:])")
        _ = try convert(other.key, "fbclid=FB4", event: "lead")
        let unmapped = try api.get("/api/v1/campaigns/\(other.id)").json["conversion_reporting_effective"] as? [String: Any]
        #expect(
            (unmapped?["warnings"] as? [String] ?? []).contains { $0.contains("No enabled mapping") && $0.contains("lead") },
            "\(unmapped ?? [:])")
        // An integration that is not a connected one is refused, and nothing changes.
        let refused = try api.sendJSON(
            "PATCH", "/api/v1/campaigns/\(first.id)", ["conversion_reporting": ["method": "capi", "integration_id": 99_999_999]])
        #expect(refused.status == 422, "\(refused.text)")
        #expect(
            (try api.get("/api/v1/campaigns/\(first.id)").json["conversion_reporting"] as? [String: Any])?["method"] as? String == "source")
    }
}
