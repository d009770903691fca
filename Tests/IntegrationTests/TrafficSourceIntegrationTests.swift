import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Traffic sources, the template library and campaigns, through nginx and PostgreSQL.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5))) struct TrafficSourceIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let password = "correct-horse-42"

    func user(_ role: Role, workspaces: [String] = []) throws -> (email: String, api: TestHTTP) {
        let email = "\(role.rawValue)-\(uniqueSuffix())@example.test"
        let store = UserStore(database: database)
        try store.create(email: email, password: password, role: role, workspaces: workspaces)
        var http = TestHTTP()
        http.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        return (email, http)
    }

    func workspace() throws -> (name: String, id: Int64) {
        let name = "ws-\(uniqueSuffix())"
        return (name, try database.query("INSERT INTO workspaces (name) VALUES (\(name)) RETURNING id").first!.decode("id"))
    }

    func patch(_ http: TestHTTP, _ path: String, _ body: [String: Any]) throws -> HTTPResponse {
        try http.send(
            "PATCH", path, headers: [("Content-Type", "application/json")], body: Array(try JSONSerialization.data(withJSONObject: body)))
    }

    func pairs(_ list: Any?) -> [[String]] {
        (list as? [[String: Any]] ?? []).map { [$0["name"] as? String ?? "", $0["token"] as? String ?? ""] }
    }

    @Test func everyTemplatePrefillsExactlyItsParameters() throws {
        let admin = try user(.admin)
        let templates = try admin.api.get("/api/v1/templates").json["data"] as? [[String: Any]] ?? []
        let keys = Set(templates.compactMap { $0["key"] as? String })
        for required in [
            "facebook", "google_ads", "microsoft_ads", "tiktok", "taboola", "outbrain", "mgid", "revcontent", "propellerads",
            "zeropark", "exoclick", "snapchat", "x_twitter", "reddit", "pinterest",
        ] {
            #expect(keys.contains(required), "template \(required)")
        }
        for template in templates {
            let key = template["key"] as! String
            let created = try admin.api.postJSON("/api/v1/traffic-sources", ["template": key, "name": "From \(key)"])
            #expect(created.status == 201, "\(key): \(created.text)")
            #expect(created.json["template"] as? String == key)
            #expect(pairs(created.json["parameters"]) == pairs(template["parameters"]), "\(key)")
            #expect(created.json["click_id_param"] as? String == template["click_id_param"] as? String)
            let postback = created.json["postback"] as? [String: Any]
            #expect(postback?["url"] as? String == template["postback_url"] as? String)
            #expect(postback?["enabled"] as? Bool == false)
        }
    }

    @Test func theFacebookCampaignURLIsExact() throws {
        let admin = try user(.admin)
        let source = try admin.api.postJSON("/api/v1/traffic-sources", ["template": "facebook", "name": "Meta main"]).json
        let campaign = try admin.api.postJSON(
            "/api/v1/campaigns",
            [
                "name": "Spring", "traffic_source_id": source["id"]!, "destination_url": "https://offer.example/lp?sub={clickid}",
            ])
        #expect(campaign.status == 201)
        let key = try #require(campaign.json["key"] as? String)
        #expect(key.count == 12)
        #expect(key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(
            campaign.json["campaign_url"] as? String == TestEnvironment.baseURL
                + "/c/\(key)?campaign_id={{campaign.id}}&adset_id={{adset.id}}&ad_id={{ad.id}}&campaign_name={{campaign.name}}"
                + "&adset_name={{adset.name}}&ad_name={{ad.name}}&placement={{placement}}&site_source_name={{site_source_name}}"
        )
        #expect((campaign.json["warnings"] as? [String])?.isEmpty == true)
        #expect(
            (campaign.json["postback_url"] as? String)?.hasSuffix("/postback?clickid={clickid}&payout={payout}&txid={txid}&status={status}")
                == true)
    }

    @Test func theCampaignKeepsTheCurrencyItWasCreatedWith() throws {
        let admin = try user(.admin)
        let source = try admin.api.postJSON("/api/v1/traffic-sources", ["name": "Push EUR", "cost_currency": "EUR"]).json
        let sourceID = try #require(source["id"] as? Int)
        let campaign = try admin.api.postJSON(
            "/api/v1/campaigns", ["name": "C", "traffic_source_id": sourceID, "destination_url": "https://o.example/?s={clickid}"]
        ).json
        #expect(campaign["currency"] as? String == "EUR")
        #expect(
            try patch(admin.api, "/api/v1/traffic-sources/\(sourceID)", ["cost_currency": "USD"]).json["cost_currency"] as? String == "USD")
        let id = try #require(campaign["id"] as? Int)
        #expect(try admin.api.get("/api/v1/campaigns/\(id)").json["currency"] as? String == "EUR")
        #expect(try patch(admin.api, "/api/v1/campaigns/\(id)", ["name": "C2"]).json["currency"] as? String == "EUR")
    }

    @Test func aChangedSourceMarksTheURLOutdatedUntilTheCampaignIsSaved() throws {
        let admin = try user(.owner)
        let source = try admin.api.postJSON(
            "/api/v1/traffic-sources", ["name": "Native", "parameters": [["name": "site", "token": "{site}"]]]
        ).json
        let sourceID = try #require(source["id"] as? Int)
        let campaign = try admin.api.postJSON(
            "/api/v1/campaigns", ["name": "N", "traffic_source_id": sourceID, "destination_url": "https://o.example/?s={clickid}"]
        ).json
        let id = try #require(campaign["id"] as? Int)
        let original = try #require(campaign["campaign_url"] as? String)
        #expect(campaign["campaign_url_outdated"] as? Bool == false)
        _ = try patch(
            admin.api, "/api/v1/traffic-sources/\(sourceID)",
            ["parameters": [["name": "site", "token": "{site}"], ["name": "creative", "token": "{creative}"]]])
        let stale = try admin.api.get("/api/v1/campaigns/\(id)").json
        #expect(stale["campaign_url"] as? String == original)
        #expect(stale["campaign_url_outdated"] as? Bool == true)
        let browser = TestBrowser()
        try browser.login(admin.email, password)
        #expect(try browser.get("/campaigns/\(id)/tracking").text.contains("changed since this URL was made"))
        let saved = try patch(admin.api, "/api/v1/campaigns/\(id)", [:]).json
        #expect(saved["campaign_url"] as? String == original + "&creative={creative}")
        #expect(saved["campaign_url_outdated"] as? Bool == false)
        #expect(!(try browser.get("/campaigns/\(id)/tracking").text.contains("changed since this URL was made")))
    }

    @Test func badInputIs422WithFieldsAndAFormMessage() throws {
        let admin = try user(.admin)
        let source = try admin.api.postJSON(
            "/api/v1/traffic-sources",
            [
                "name": "", "cost_currency": "EURO", "parameters": [["name": "Bad Name", "token": "x"]],
                "postback": ["enabled": true, "url": "not a url"],
            ])
        #expect(source.status == 422)
        let fields = (source.json["error"] as? [String: Any])?["fields"] as? [String: String] ?? [:]
        #expect(Set(fields.keys) == ["name", "cost_currency", "parameters", "postback_url"])
        let duplicate = try admin.api.postJSON(
            "/api/v1/traffic-sources", ["name": "x", "parameters": [["name": "a", "token": "1"], ["name": "a", "token": "2"]]])
        #expect(
            ((duplicate.json["error"] as? [String: Any])?["fields"] as? [String: String])?["parameters"]?.contains("used twice") == true)
        let campaign = try admin.api.postJSON(
            "/api/v1/campaigns", ["name": "c", "traffic_source_id": 0, "destination_url": "ftp://x", "cost_model": ["type": "cpx"]])
        #expect(campaign.status == 422)
        let campaignFields = (campaign.json["error"] as? [String: Any])?["fields"] as? [String: String] ?? [:]
        #expect(Set(campaignFields.keys) == ["traffic_source_id", "destination_url", "cost_model"])

        let browser = TestBrowser()
        try browser.login(admin.email, password)
        try browser.get("/campaigns/new")
        let page = try browser.post(
            "/campaigns",
            [
                ("name", "Typed"), ("traffic_source_id", ""), ("destination_url", "offer.example"), ("status", "active"),
                ("cost_model", "none"),
            ])
        #expect(page.status == 422)
        #expect(page.text.contains("Destination URL must be an absolute http(s) URL"))
        #expect(page.text.contains("Traffic source is required"))
        #expect(page.text.contains("value=\"Typed\""))
    }

    @Test func destinationsWithoutClickIDOrWithUnknownTokensWarn() throws {
        let admin = try user(.admin)
        let sourceID = try #require(
            try admin.api.postJSON("/api/v1/traffic-sources", ["name": "W", "parameters": [["name": "zone", "token": "{zoneid}"]]]).json[
                "id"] as? Int)
        let warned = try admin.api.postJSON(
            "/api/v1/campaigns", ["name": "w", "traffic_source_id": sourceID, "destination_url": "https://o.example/?z={zone}&x={nope}"])
        #expect(warned.status == 201)
        let warnings = warned.json["warnings"] as? [String] ?? []
        #expect(warnings.contains { $0.contains("no {clickid}") })
        #expect(warnings.contains { $0.contains("{nope}") && !$0.contains("{zone}") })
    }

    @Test func aCustomSourceWithTwelveParametersKeepsItsSlots() throws {
        let admin = try user(.admin)
        let names = [
            "campaign", "sub_campaign", "creative", "placement", "sub_source", "geo", "device", "os", "browser", "list", "segment",
            "send_date",
        ]
        let created = try admin.api.postJSON(
            "/api/v1/traffic-sources", ["name": "Email list", "parameters": names.map { ["name": $0, "token": "[\($0.uppercased())]"] }])
        #expect(created.status == 201)
        let id = try #require(created.json["id"] as? Int)
        #expect(pairs(created.json["parameters"]).map { $0[0] } == names)
        let campaign = try admin.api.postJSON(
            "/api/v1/campaigns", ["name": "Newsletter", "traffic_source_id": id, "destination_url": "https://o.example/?s={clickid}"]
        ).json
        let url = try #require(campaign["campaign_url"] as? String)
        #expect(url.hasSuffix("?" + names.map { "\($0)=[\($0.uppercased())]" }.joined(separator: "&")))
        func slots() throws -> [String: Int] {
            let text: String = try database.query("SELECT parameters::text AS p FROM traffic_sources WHERE id = \(id)").first!.decode("p")
            let list = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [[String: Any]]
            return Dictionary(uniqueKeysWithValues: list.map { ($0["name"] as! String, $0["slot"] as! Int) })
        }
        let before = try slots()
        #expect(Set(before.values) == Set(1...12))
        // Remove "geo", add "audience", reorder: every kept name keeps its slot, the new one takes the freed slot.
        let edited = ["audience"] + names.filter { $0 != "geo" }.reversed()
        _ = try patch(admin.api, "/api/v1/traffic-sources/\(id)", ["parameters": edited.map { ["name": $0, "token": "x"] }])
        let after = try slots()
        for name in names where name != "geo" { #expect(after[name] == before[name], "\(name)") }
        #expect(after["audience"] == before["geo"])
    }

    @Test func otherWorkspacesSourcesAndCampaignsDoNotExist() throws {
        let a = try workspace(), b = try workspace()
        let alice = try user(.member, workspaces: [a.name]), bob = try user(.member, workspaces: [b.name])
        let source = try alice.api.postJSON("/api/v1/traffic-sources", ["name": "Alice push", "workspace_id": a.id])
        #expect(source.status == 201)
        let sourceID = try #require(source.json["id"] as? Int)
        let campaign = try alice.api.postJSON(
            "/api/v1/campaigns", ["name": "A", "traffic_source_id": sourceID, "destination_url": "https://o.example/?s={clickid}"])
        let campaignID = try #require(campaign.json["id"] as? Int)
        // Bob cannot see, change or use them, nor put a source into Alice's workspace.
        #expect(try bob.api.get("/api/v1/traffic-sources/\(sourceID)").status == 404)
        #expect(try bob.api.get("/api/v1/campaigns/\(campaignID)").status == 404)
        #expect(try patch(bob.api, "/api/v1/traffic-sources/\(sourceID)", ["name": "x"]).status == 404)
        #expect(try patch(bob.api, "/api/v1/campaigns/\(campaignID)", ["name": "x"]).status == 404)
        #expect(try bob.api.send("DELETE", "/api/v1/campaigns/\(campaignID)").status == 404)
        let ids = (try bob.api.get("/api/v1/traffic-sources").json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        #expect(!ids.contains(sourceID))
        let use = try bob.api.postJSON(
            "/api/v1/campaigns", ["name": "B", "traffic_source_id": sourceID, "destination_url": "https://o.example/?s={clickid}"])
        #expect(use.status == 422)
        #expect(try bob.api.postJSON("/api/v1/traffic-sources", ["name": "x", "workspace_id": a.id]).status == 422)
        let browser = TestBrowser()
        try browser.login(bob.email, password)
        #expect(try browser.get("/traffic-sources/\(sourceID)").status == 404)
        #expect(try browser.get("/campaigns/\(campaignID)/tracking").status == 404)
        // A Public source is visible to both; a viewer may read but not change it.
        let publicSource = try alice.api.postJSON("/api/v1/traffic-sources", ["name": "Shared"]).json["id"] as? Int
        #expect(try bob.api.get("/api/v1/traffic-sources/\(publicSource ?? 0)").status == 200)
        let viewer = try user(.viewer)
        #expect(try viewer.api.get("/api/v1/traffic-sources/\(publicSource ?? 0)").status == 200)
        #expect(try patch(viewer.api, "/api/v1/traffic-sources/\(publicSource ?? 0)", ["name": "y"]).status == 403)
    }

    @Test func aSourceWithCampaignsIsNotDeleted() throws {
        let admin = try user(.owner)
        let sourceID = try #require(try admin.api.postJSON("/api/v1/traffic-sources", ["name": "Used"]).json["id"] as? Int)
        let campaignID = try #require(
            try admin.api.postJSON(
                "/api/v1/campaigns", ["name": "c", "traffic_source_id": sourceID, "destination_url": "https://o.example/?s={clickid}"]
            ).json["id"] as? Int)
        let refused = try admin.api.send("DELETE", "/api/v1/traffic-sources/\(sourceID)")
        #expect(refused.status == 409)
        #expect(((refused.json["error"] as? [String: Any])?["message"] as? String)?.contains("1 campaign uses this traffic source") == true)
        let browser = TestBrowser()
        try browser.login(admin.email, password)
        try browser.get("/traffic-sources/\(sourceID)")
        #expect(try browser.post("/traffic-sources/\(sourceID)/delete", []).status == 303)
        #expect(try browser.get("/traffic-sources/\(sourceID)").text.contains("Not deleted: 1 campaign uses this traffic source"))
        #expect(try admin.api.send("DELETE", "/api/v1/campaigns/\(campaignID)").status == 204)
        #expect(try admin.api.send("DELETE", "/api/v1/traffic-sources/\(sourceID)").status == 204)
        #expect(try admin.api.get("/api/v1/traffic-sources/\(sourceID)").status == 404)
        let audited: Int = try database.query(
            "SELECT count(*)::int AS n FROM audit_log WHERE object_type = 'traffic_source' AND object_id = \(String(sourceID))"
        ).first!.decode("n")
        #expect(audited == 2)
    }

    @Test func pagesCreateASourceFromATemplateAndACampaign() throws {
        let admin = try user(.admin)
        let browser = TestBrowser()
        try browser.login(admin.email, password)
        #expect(try browser.get("/traffic-sources/new?q=tik").text.contains("/traffic-sources/new?template=tiktok"))
        let form = try browser.get("/traffic-sources/new?template=tiktok")
        #expect(form.text.contains("value=\"__CALLBACK_PARAM__\""))
        let name = "TikTok \(uniqueSuffix())"
        var fields: [(String, String)] = [
            ("name", name), ("template", "tiktok"), ("workspace_id", ""), ("cost_currency", "USD"), ("click_id_param", "ttclid"),
        ]
        for (i, p) in [("campaign_id", "__CAMPAIGN_ID__"), ("ttclid", "__CALLBACK_PARAM__"), ("", "")].enumerated() {
            fields += [("param_order", String(i + 1)), ("param_name", p.0), ("param_token", p.1)]
        }
        let created = try browser.post("/traffic-sources", fields)
        #expect(created.status == 303)
        let sourceID: Int64 = try database.query("SELECT id FROM traffic_sources WHERE name = \(name)").first!.decode("id")
        try browser.get("/campaigns/new?traffic_source_id=\(sourceID)")
        let made = try browser.post(
            "/campaigns",
            [
                ("name", "Page campaign"), ("traffic_source_id", String(sourceID)),
                ("destination_url", "https://o.example/?s={clickid}"), ("status", "active"), ("cost_model", "cpc"), ("cost_amount", "0.3"),
            ])
        #expect(made.status == 303)
        let location = try #require(made.header("Location"))
        #expect(location.hasSuffix("/tracking"))
        let tracking = try browser.get(location).text
        let key: String = try database.query("SELECT key FROM campaigns WHERE traffic_source_id = \(sourceID)").first!.decode("key")
        #expect(
            tracking.contains("value=\"\(TestEnvironment.baseURL)/c/\(key)?campaign_id=__CAMPAIGN_ID__&amp;ttclid=__CALLBACK_PARAM__\""))
    }
}
