import Accounts
import Conversions
import Foundation
import HTTPClient
import Integrations
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Each provider's whole life through nginx, PostgreSQL, the worker and the provider fakes
/// (Tests/Fakes): connect → account selection → active → sync (spend and impressions in
/// reports) → conversion pushed → authorization lost → error → reconnect → pause (nothing
/// pushed) → resume → disconnect (tokens gone).
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5)), .serialized) struct IntegrationLifecycleIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let tracking = TestHTTP.tracking()

    struct Provider {
        var key: String
        var fake: String
        var template: String
        var authorizePath: String
        var account: String
        /// A platform campaign id of the fake's seed data (the first campaign of `account`).
        var campaign: () throws -> String
        var clickIDParam: String
        var mapping: String
        var settings: [String: Any]
        /// Part of the path of the provider's metrics call (for the fake's failure modes).
        var pullPath: String
    }

    func api() throws -> (TestHTTP, Int) {
        let (api, workspace, _) = try apiWithEmail()
        return (api, workspace)
    }

    func apiWithEmail() throws -> (TestHTTP, Int, String) {
        let email = "integ-\(uniqueSuffix())@example.test"
        let users = UserStore(database: database)
        _ = try users.create(email: email, password: "correct-horse-42", role: .admin)
        var api = TestHTTP()
        api.headers = [("Authorization", "Bearer " + (try users.createToken(email: email, name: "t")))]
        let workspace = try #require(
            try api.postJSON("/api/v1/workspaces", ["name": "I \(uniqueSuffix())", "timezone": "UTC", "currency": "USD"]).json["id"] as? Int
        )
        return (api, workspace, email)
    }

    func integration(_ api: TestHTTP, _ source: Int, _ provider: String) throws -> [String: Any] {
        try api.get("/api/v1/traffic-sources/\(source)/integrations/\(provider)").json
    }

    /// Connect through the OAuth flow: the authorize URL (on the real origin), the fake's
    /// consent redirect, the callback with the same API token that started it.
    func authorize(_ api: TestHTTP, _ source: Int, _ p: Provider, action: String = "connect") throws -> [String: Any] {
        let connect = try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/\(action)")
        #expect(connect.status == 200, "\(connect.text)")
        let url = try #require(connect.json["authorize_url"] as? String)
        // The origin map applies to OAuth redirects too: the fake's consent page.
        #expect(url.hasPrefix(TestFake(p.fake).base + p.authorizePath), "\(url)")
        #expect(url.contains("state="))
        let location = try TestFake(p.fake).authorize(url)
        #expect(location.hasPrefix(TestEnvironment.baseURL + "/oauth/\(p.key)/callback?"), "\(location)")
        let callback = try api.get(String(location.dropFirst(TestEnvironment.baseURL.count)).replacingOccurrences(of: "#_=_", with: ""))
        #expect(callback.status == 200, "\(callback.text)")
        return callback.json
    }

    func lastSync(_ api: TestHTTP, _ source: Int, _ provider: String) throws -> [String: Any]? {
        (try api.get("/api/v1/traffic-sources/\(source)/integrations/\(provider)/history").json["syncs"] as? [[String: Any]])?
            .first { ($0["type"] as? String)?.hasSuffix("pull") == true && $0["status"] as? String != "running" }
    }

    func runLife(_ p: Provider) throws {
        let fake = TestFake(p.fake)
        try fake.reset()
        let (api, workspace, email) = try apiWithEmail()
        let sourceName = "\(p.key) \(uniqueSuffix())"
        let source = try #require(
            try api.postJSON(
                "/api/v1/traffic-sources",
                [
                    "name": sourceName, "workspace_id": workspace, "template": p.template, "cost_currency": "USD",
                ]
            ).json["id"] as? Int)
        let campaign = try api.postJSON(
            "/api/v1/campaigns",
            [
                "name": "C \(p.key)", "traffic_source_id": source, "destination_url": "https://offer.example/lp?c={clickid}",
            ]
        ).json
        let campaignID = try #require(campaign["id"] as? Int)
        let key = try #require(campaign["key"] as? String)

        // Four cards, none connected.
        let cards = try #require(try api.get("/api/v1/traffic-sources/\(source)/integrations").json["data"] as? [[String: Any]])
        #expect(cards.map { $0["provider"] as? String ?? "" } == ["google_ads", "meta", "tiktok", "ga4"])
        #expect(cards.allSatisfy { $0["status"] as? String == "not_connected" })

        // Connect → pending account selection with the fake's accounts → select → active.
        let pending = try authorize(api, source, p)
        #expect(pending["status"] as? String == "pending_account_selection")
        let accounts = (pending["accounts"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(accounts.contains(p.account), "\(accounts)")
        // A click carrying the platform's campaign id, so pulled cost lands on this campaign.
        let platformCampaign = try p.campaign()
        #expect(try tracking.get("/c/\(key)?campaign_id=\(platformCampaign)&\(p.clickIDParam)=CLICK-\(uniqueSuffix())").status == 302)
        let settings = try api.sendJSON(
            "PATCH", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)", p.settings.merging(["lookback_days": 6]) { a, _ in a })
        #expect(settings.status == 200, "\(settings.text)")
        let selected = try api.sendJSON(
            "POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/select-account", ["account_id": p.account])
        #expect(selected.json["status"] as? String == "active", "\(selected.text)")

        // The worker pulls at once: metrics, spend (origin integration) on the campaign, reports.
        #expect(waitUntil(seconds: 30) { (try? lastSync(api, source, p.key)) != nil })
        let sync = try #require(try lastSync(api, source, p.key))
        #expect(sync["status"] as? String == "success", "\(sync)")
        #expect((sync["records_read"] as? Int ?? 0) > 0)
        let spent = try database.query(
            """
            SELECT count(*) AS n, coalesce(sum(amount), 0)::text AS amount, coalesce(sum(impressions), 0) AS impressions,
                   count(*) FILTER (WHERE campaign_id = \(campaignID)) AS matched
            FROM spend_entries WHERE traffic_source_id = \(source) AND origin = 'integration'
            """)[0]
        #expect((Int(spent["n"] ?? "0") ?? 0) > 0)
        #expect((Int(spent["matched"] ?? "0") ?? 0) > 0, "pulled cost of campaign \(platformCampaign) should land on the Waymark campaign")
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        let from = String(ISO8601DateFormatter().string(from: Date().addingTimeInterval(-6 * 86400)).prefix(10))
        let report = try api.get(
            "/api/v1/reports?from=\(from)&to=\(today)&tz=UTC&group_by=traffic_source&workspace_id=\(workspace)&traffic_source_id=\(source)"
        ).json
        let totals = try #require(report["totals"] as? [String: Any])
        #expect(Decimal(string: totals["cost"] as? String ?? "") == Decimal(string: spent["amount"] ?? ""), "\(totals)")
        #expect(totals["impressions"] as? Int == Int(spent["impressions"] ?? ""))
        #expect((totals["impressions"] as? Int ?? 0) > 0)
        #expect(totals["ctr"] != nil)
        // Re-pulling the same window replaces, never adds.
        #expect(try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/sync").status == 200)
        #expect(
            waitUntil(seconds: 30) {
                (try? api.get("/api/v1/traffic-sources/\(source)/integrations/\(p.key)/history").json["syncs"] as? [[String: Any]])?.filter
                { $0["status"] as? String == "success" && ($0["type"] as? String)?.hasSuffix("pull") == true }.count ?? 0 >= 2
            })
        let again = try database.query(
            """
            SELECT coalesce(sum(amount), 0)::text AS amount FROM spend_entries WHERE traffic_source_id = \(source) AND origin =
            'integration'
            """
        )[0]
        #expect(again["amount"] == spent["amount"])

        // A conversion of a mapped event is pushed with the platform's click id.
        let mapped = try api.sendJSON(
            "PUT", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/mappings",
            ["mappings": [["event": "conversion", "provider_action": p.mapping, "enabled": true]]])
        #expect(mapped.status == 200, "\(mapped.text)")
        func convert() throws -> (clickID: String, external: String, conversion: String) {
            let external = "EXT\(uniqueSuffix())"
            let r = try tracking.get("/c/\(key)?campaign_id=\(platformCampaign)&\(p.clickIDParam)=\(external)")
            let clickID = try #require(r.header("location")?.components(separatedBy: "c=").last)
            let posted = try tracking.get("/postback?clickid=\(clickID)&payout=12.50&txid=T\(uniqueSuffix())")
            #expect(posted.json["status"] as? String == "recorded", "\(posted.text)")
            return (clickID, external, try #require(posted.json["conversion_id"] as? String))
        }
        func received(_ conversion: String) -> [String: Any]? {
            (try? fake.receivedEvents())?.compactMap { $0["event"] as? [String: Any] }.first { event in
                jsonText(event["event_id"]) == conversion || jsonText(event["orderId"]) == "wm-\(conversion)"
            }
        }
        let first = try convert()
        #expect(waitUntil(seconds: 20) { received(first.conversion) != nil }, "the fake never received conversion \(first.conversion)")
        if let event = received(first.conversion) {
            switch p.key {
            case "meta":
                let fbc = (event["user_data"] as? [String: Any])?["fbc"] as? String ?? ""
                #expect(fbc.hasPrefix("fb.1.") && fbc.hasSuffix("." + first.external), "\(event)")
                #expect(event["event_name"] as? String == p.mapping)
            case "tiktok":
                #expect((event["user"] as? [String: Any])?["ttclid"] as? String == first.external, "\(event)")
            default:
                #expect(event["gclid"] as? String == first.external, "\(event)")
                #expect(event["conversionAction"] as? String == "customers/\(p.account)/conversionActions/\(p.mapping)")
            }
        }
        let pushes = try #require(
            try api.get("/api/v1/traffic-sources/\(source)/integrations/\(p.key)/history").json["pushes"] as? [[String: Any]])
        #expect(pushes.first?["state"] as? String == "delivered", "\(pushes)")
        // No token is stored in the outbox.
        #expect(
            try database.query(
                """
                SELECT url, body FROM deliveries WHERE kind = 'capi' AND target_id = (SELECT id FROM integrations WHERE
                traffic_source_id = \(source) AND provider = \(p.key))
                """
            )
            .allSatisfy { !($0["url"] ?? "").contains("access_token") })

        // Throttled: the sync fails, backs off, and the integration stays active.
        try fake.control("POST", "fail", ["path_contains": p.pullPath, "kind": "rate_limit", "count": 1])
        let syncsBefore =
            (try api.get("/api/v1/traffic-sources/\(source)/integrations/\(p.key)/history").json["syncs"] as? [[String: Any]])?.count ?? 0
        #expect(try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/sync").status == 200)
        #expect(
            waitUntil(seconds: 30) {
                ((try? integration(api, source, p.key))?["health"] as? [String: Any])?["consecutive_failures"] as? Int == 1
            })
        let throttled = try integration(api, source, p.key)
        #expect(throttled["status"] as? String == "active", "\(throttled)")
        let syncs = try #require(
            try api.get("/api/v1/traffic-sources/\(source)/integrations/\(p.key)/history").json["syncs"] as? [[String: Any]])
        #expect(syncs.count == syncsBefore + 1 && syncs.first?["status"] as? String == "failed", "\(syncs.first ?? [:])")
        if p.key == "google_ads" {
            // An access token that expired early: one refresh, and the pull goes through.
            try fake.expireTokens()
            #expect(try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/sync").status == 200)
            #expect(
                waitUntil(seconds: 30) {
                    ((try? integration(api, source, p.key))?["health"] as? [String: Any])?["consecutive_failures"] as? Int == 0
                })
            #expect(try fake.requests("/token").contains { ($0["body"] as? String ?? "").contains("grant_type=refresh_token") })
        }

        // Authorization revoked at the provider → the next sync fails → error, reconnect required.
        try fake.revokeTokens()
        #expect(try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/sync").status == 200)
        #expect(waitUntil(seconds: 30) { (try? integration(api, source, p.key))?["status"] as? String == "error" })
        let broken = try integration(api, source, p.key)
        #expect((broken["health"] as? [String: Any])?["reconnection_required"] as? Bool == true)
        let lastError = (broken["health"] as? [String: Any])?["last_error"] as? String ?? ""
        #expect(lastError.contains("Reconnection required"), "\(broken)")
        if p.key == "meta" {
            // The Status page lists it as needing reconnection.
            let browser = TestBrowser()
            _ = try browser.login(email, "correct-horse-42")
            let status = try browser.get("/status").text
            #expect(status.contains("Reconnection required") && status.contains(sourceName))
        }
        // Reconnect: the same account, straight back to active.
        let reconnected = try authorize(api, source, p, action: "reconnect")
        #expect(reconnected["status"] as? String == "active", "\(reconnected)")

        // Paused: nothing pushed; resumed: it goes.
        #expect(
            try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/pause").json["status"] as? String == "paused")
        let held = try convert()
        usleep(3_000_000)
        #expect(received(held.conversion) == nil, "pushed while paused")
        let waiting = try #require(
            try api.get("/api/v1/traffic-sources/\(source)/integrations/\(p.key)/history").json["pushes"] as? [[String: Any]])
        #expect(waiting.first?["state"] as? String == "pending" && waiting.first?["attempts"] as? Int == 0, "\(waiting.first ?? [:])")
        #expect(
            try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/resume").json["status"] as? String == "active"
        )
        #expect(waitUntil(seconds: 20) { received(held.conversion) != nil }, "not pushed after resume")

        // Disconnect: tokens gone from the database, not_connected.
        let gone = try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/\(p.key)/disconnect")
        #expect(gone.json["status"] as? String == "not_connected", "\(gone.text)")
        let row = try database.query(
            "SELECT access_token, refresh_token, api_secret FROM integrations WHERE traffic_source_id = \(source) AND provider = \(p.key)")[
                0]
        #expect(row["access_token"] == nil && row["refresh_token"] == nil && row["api_secret"] == nil)
    }

    @Test func metaFromConnectToDisconnect() throws {
        try runLife(
            Provider(
                key: "meta", fake: "meta", template: "facebook", authorizePath: "/v26.0/dialog/oauth?", account: "act_123456789",
                campaign: { try firstCampaign("meta", "/v26.0/act_123456789/insights") }, clickIDParam: "fbclid", mapping: "Purchase",
                settings: ["pixel_id": "1234567890"], pullPath: "/insights"))
    }

    @Test func googleAdsFromConnectToDisconnect() throws {
        try runLife(
            Provider(
                key: "google_ads", fake: "google", template: "google_ads", authorizePath: "/o/oauth2/v2/auth?", account: "1234567890",
                campaign: { "111" }, clickIDParam: "gclid", mapping: "987654321", settings: [:], pullPath: "searchStream"))
    }

    @Test func tiktokFromConnectToDisconnect() throws {
        try runLife(
            Provider(
                key: "tiktok", fake: "tiktok", template: "tiktok", authorizePath: "/portal/auth?", account: "7000000000000000001",
                campaign: { try firstCampaign("tiktok", "/open_api/v1.3/report/integrated/get/") }, clickIDParam: "ttclid",
                mapping: "CompletePayment",
                settings: ["pixel_code": "C9ABCDEF1234567890"], pullPath: "/report/integrated/get/"))
    }

    /// The first campaign id the fake reports (its seed ids are long and derived).
    func firstCampaign(_ fake: String, _ path: String) throws -> String {
        let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
        let url: String
        if fake == "meta" {
            url =
                TestFake(fake).base + path + "?level=campaign&fields=campaign_id&time_range="
                + "{\"since\":\"\(today)\",\"until\":\"\(today)\"}".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                + "&access_token=fake-meta-system-user-token"
        } else {
            url =
                TestFake(fake).base + path
                + "?advertiser_id=7000000000000000001&report_type=BASIC&data_level=AUCTION_CAMPAIGN"
                + "&dimensions=%5B%22campaign_id%22%2C%22stat_time_day%22%5D&metrics=%5B%22spend%22%5D"
                + "&start_date=\(today)&end_date=\(today)&page=1&page_size=10"
        }
        let r = try HTTPClient.send(
            HTTPRequest(url: url, headers: fake == "tiktok" ? [("Access-Token", "fake-tiktok-events-token")] : [], timeout: 10))
        let json = r.json
        if fake == "meta" {
            return try #require(((json["data"] as? [[String: Any]])?.first?["campaign_id"]).flatMap(jsonText), "\(r.text)")
        }
        let list = (json["data"] as? [String: Any])?["list"] as? [[String: Any]]
        return try #require((list?.first?["dimensions"] as? [String: Any])?["campaign_id"].flatMap(jsonText), "\(r.text)")
    }

    /// GA4: manual credentials (validated), the test against the validation server, a push.
    @Test func ga4ConnectsByMeasurementIDAndSendsConversions() throws {
        let fake = TestFake("ga4")
        try fake.reset()
        let (api, workspace) = try api()
        let source = try #require(
            try api.postJSON(
                "/api/v1/traffic-sources", ["name": "E-mail \(uniqueSuffix())", "workspace_id": workspace, "cost_currency": "USD"]
            ).json["id"] as? Int)
        let campaign = try api.postJSON(
            "/api/v1/campaigns", ["name": "C", "traffic_source_id": source, "destination_url": "https://offer.example/?c={clickid}"]
        ).json
        let key = try #require(campaign["key"] as? String)
        let bad = try api.sendJSON(
            "POST", "/api/v1/traffic-sources/\(source)/integrations/ga4/connect", ["measurement_id": "UA-1234", "api_secret": ""])
        #expect(bad.status == 422)
        #expect(
            (bad.json["error"] as? [String: Any])?["fields"] as? [String: String] == [
                "measurement_id": "must look like G-XXXXXXXXXX", "api_secret": "is required",
            ])
        let ok = try api.sendJSON(
            "POST", "/api/v1/traffic-sources/\(source)/integrations/ga4/connect",
            ["measurement_id": "G-TEST1234", "api_secret": "fake-ga4-secret"])
        #expect(ok.json["status"] as? String == "active", "\(ok.text)")
        let test = try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/ga4/test")
        #expect(test.json["ok"] as? Bool == true, "\(test.text)")
        #expect(try fake.requests("/debug/mp/collect").count == 1)
        #expect(
            try api.sendJSON(
                "PUT", "/api/v1/traffic-sources/\(source)/integrations/ga4/mappings",
                ["mappings": [["event": "conversion", "provider_action": "purchase", "enabled": true]]]
            ).status == 200)
        let r = try tracking.get("/c/\(key)?ga_client_id=555.666")
        let clickID = try #require(r.header("location")?.components(separatedBy: "c=").last)
        #expect(try tracking.get("/postback?clickid=\(clickID)&payout=3").status == 200)
        #expect(
            waitUntil(seconds: 20) { (try? fake.requests("/mp/collect"))?.contains { ($0["path"] as? String) == "/mp/collect" } == true })
        let sent = try #require(try fake.requests("/mp/collect").first { ($0["path"] as? String) == "/mp/collect" })
        #expect(
            (sent["query"] as? String ?? sent["raw_query"] as? String ?? "").contains("api_secret=fake-ga4-secret")
                || "\(sent["query"] ?? "")".contains("fake-ga4-secret"))
        let body = sent["json"] as? [String: Any] ?? [:]
        #expect(body["client_id"] as? String == "555.666", "\(body)")
        #expect(((body["events"] as? [[String: Any]])?.first?["name"]) as? String == "purchase")
        // The secret is sealed at rest.
        let stored =
            try database.query("SELECT api_secret FROM integrations WHERE traffic_source_id = \(source) AND provider = 'ga4'")[0][
                "api_secret"] ?? ""
        #expect(!stored.isEmpty && !stored.contains("fake-ga4-secret"))
    }

    /// Google: a partial failure names the failed row; the Data Manager API where the account needs it.
    @Test func googlePartialFailuresAndTheDataManagerAPI() throws {
        let fake = TestFake("google")
        try fake.reset()
        let (api, workspace) = try api()
        let p = Provider(
            key: "google_ads", fake: "google", template: "google_ads", authorizePath: "/o/oauth2/v2/auth?", account: "1234567890",
            campaign: { "111" }, clickIDParam: "gclid", mapping: "987654321", settings: [:], pullPath: "searchStream")
        let source = try #require(
            try api.postJSON(
                "/api/v1/traffic-sources", ["name": "G \(uniqueSuffix())", "workspace_id": workspace, "template": "google_ads"]
            ).json["id"] as? Int)
        let key = try #require(
            try api.postJSON(
                "/api/v1/campaigns", ["name": "G", "traffic_source_id": source, "destination_url": "https://o.example/?c={clickid}"]
            ).json["key"] as? String)
        _ = try authorize(api, source, p)
        #expect(
            try api.sendJSON(
                "POST", "/api/v1/traffic-sources/\(source)/integrations/google_ads/select-account", ["account_id": "1234567890"]
            ).json["status"] as? String == "active")
        #expect(
            try api.sendJSON(
                "PUT", "/api/v1/traffic-sources/\(source)/integrations/google_ads/mappings",
                ["mappings": [["event": "conversion", "provider_action": "987654321", "enabled": true]]]
            ).status == 200)
        func convert(_ gclid: String) throws -> String {
            let r = try tracking.get("/c/\(key)?gclid=\(gclid)")
            let click = try #require(r.header("location")?.components(separatedBy: "c=").last)
            return try #require(try tracking.get("/postback?clickid=\(click)&payout=5").json["conversion_id"] as? String)
        }
        func push(_ conversion: String) throws -> [String: Any]? {
            (try api.get("/api/v1/traffic-sources/\(source)/integrations/google_ads/history").json["pushes"] as? [[String: Any]])?
                .first { jsonText($0["conversion_id"]) == conversion }
        }
        let expired = try convert("EXPIRED-\(uniqueSuffix())")
        #expect(waitUntil(seconds: 20) { (try? push(expired))??["state"] as? String == "failed" })
        let failed = try #require(try push(expired))
        #expect(
            (failed["error"] as? String ?? "").contains("partial failure") && (failed["error"] as? String ?? "").contains("conversions[0]"),
            "\(failed)")
        #expect(
            try api.sendJSON("PATCH", "/api/v1/traffic-sources/\(source)/integrations/google_ads", ["conversion_api": "data_manager"])
                .status == 200)
        let ingested = try convert("GCLID-OK-\(uniqueSuffix())")
        #expect(waitUntil(seconds: 20) { (try? push(ingested))??["state"] as? String == "delivered" })
        let event = try #require(try fake.receivedEvents().first { ($0["endpoint"] as? String ?? "").contains("events:ingest") })
        #expect(((event["event"] as? [String: Any])?["transactionId"] as? String) == "wm-\(ingested)", "\(event)")
    }

    /// The OAuth state is single use and bound to who started it.
    @Test func aCallbackFromAnotherSessionOrReplayedIsRefused() throws {
        try TestFake("meta").reset()
        let (api, workspace) = try api()
        let (other, _) = try self.api()
        let source = try #require(
            try api.postJSON("/api/v1/traffic-sources", ["name": "M \(uniqueSuffix())", "workspace_id": workspace, "template": "facebook"])
                .json["id"] as? Int)
        let url = try #require(
            try api.sendJSON("POST", "/api/v1/traffic-sources/\(source)/integrations/meta/connect").json["authorize_url"] as? String)
        let location = try TestFake("meta").authorize(url)
        let path = String(location.dropFirst(TestEnvironment.baseURL.count)).replacingOccurrences(of: "#_=_", with: "")
        #expect(try other.get(path).status == 403)
        // Consumed by the refused attempt: a second try with the right token is refused too.
        #expect(try api.get(path).status == 403)
    }
}

/// JSON numbers and strings alike as text.
func jsonText(_ value: Any?) -> String? {
    switch value {
    case let s as String: s
    case let n as NSNumber: n.stringValue
    default: nil
    }
}
