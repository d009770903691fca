import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// The offer, lander and flow pages, the flow editor without JavaScript, and a campaign's flow
/// on its General and Tracking tabs: the real app and PostgreSQL, a cookie-keeping browser.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5))) struct FlowPagesIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    let password = "correct-horse-42"

    /// A new user of `role`: signed in through the login form, and an API client.
    func user(_ role: Role) throws -> (browser: TestBrowser, api: TestHTTP) {
        let email = "\(role.rawValue)-\(uniqueSuffix())@example.test"
        let store = UserStore(database: database)
        try store.create(email: email, password: password, role: role)
        var http = TestHTTP()
        http.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        let browser = TestBrowser()
        #expect(try browser.login(email, password).status == 303)
        try browser.get("/")  // the session's CSRF token for the forms
        return (browser, http)
    }

    func created(_ api: TestHTTP, _ path: String, _ body: [String: Any]) throws -> Int {
        let r = try api.postJSON(path, body)
        #expect(r.status == 201, "\(path): \(r.text)")
        return try #require(r.json["id"] as? Int)
    }

    func offer(_ api: TestHTTP, _ name: String) throws -> Int {
        try created(api, "/api/v1/offers", ["name": name, "url": "https://offer.example/?s={clickid}", "payout": "2"])
    }

    func lander(_ api: TestHTTP, _ name: String, links: Int = 1) throws -> Int {
        try created(api, "/api/v1/landers", ["name": name, "url": "https://lander.example/?c={clickid}", "offers_count": links])
    }

    /// The id at the end of a redirect's `Location` (`/offers/12`).
    func redirectID(_ r: HTTPResponse, _ prefix: String) throws -> Int {
        #expect(r.status == 303, "\(r.status): \(r.text.prefix(3000))")
        let location = try #require(r.header("location"))
        #expect(location.hasPrefix(prefix), "\(location)")
        return try #require(Int(location.dropFirst(prefix.count)))
    }

    @Test func offersAreCreatedEditedAndDeletedThroughTheForms() throws {
        let admin = try user(.admin)
        #expect(try admin.browser.get("/offers/new").status == 200)
        let fields = [
            ("name", "Dating DE"), ("workspace_id", ""), ("url", "https://net.example/o?s={clickid}"), ("payout", "2.50"),
            ("currency", "EUR"), ("affiliate_network", "MaxBounty"), ("daily_cap", "40"), ("status", "active"),
        ]
        let id = try redirectID(try admin.browser.post("/offers", fields), "/offers/")
        let stored = try admin.api.get("/api/v1/offers/\(id)").json
        #expect(stored["payout"] as? String == "2.50" || stored["payout"] as? String == "2.5000")
        #expect(stored["currency"] as? String == "EUR")
        #expect(stored["daily_cap"] as? Int == 40)
        #expect(try admin.browser.get("/offers").text.contains("Dating DE"))

        var edited = fields.filter { $0.0 != "daily_cap" && $0.0 != "status" }
        edited += [("daily_cap", ""), ("status", "paused")]
        #expect(try redirectID(try admin.browser.post("/offers/\(id)", edited), "/offers/") == id)
        let changed = try admin.api.get("/api/v1/offers/\(id)").json
        #expect(changed["status"] as? String == "paused")
        #expect(changed["daily_cap"] is NSNull)

        // Bad input: every error listed, the user's values kept, nothing changed.
        let bad = try admin.browser.post(
            "/offers/\(id)",
            [("name", ""), ("url", "not a url"), ("payout", "lots"), ("currency", "EUR"), ("daily_cap", "many"), ("status", "paused")])
        #expect(bad.status == 422)
        for key in ["name", "url", "payout", "daily_cap"] { #expect(bad.text.contains("<li>\(key): "), "\(key)") }
        #expect(bad.text.contains(#"value="not a url""#) && bad.text.contains(#"value="lots""#) && bad.text.contains(#"value="many""#))
        #expect(try admin.api.get("/api/v1/offers/\(id)").json["name"] as? String == "Dating DE")

        // In use by a flow: not deleted, and the page names the flow.
        let flowName = "Uses the offer \(uniqueSuffix())"
        _ = try created(
            admin.api, "/api/v1/flows",
            ["name": flowName, "paths": [["name": "Default", "offers": [["offer_id": id, "weight": 1]]]]])
        let refused = try admin.browser.post("/offers/\(id)/delete", [])
        #expect(refused.header("location") == "/offers/\(id)")
        let page = try admin.browser.get("/offers/\(id)").text
        #expect(page.contains("Not deleted") && page.contains("&quot;\(flowName)&quot;"), "\(page.prefix(2000))")
        #expect(try admin.api.get("/api/v1/offers/\(id)").status == 200)

        let unused = try offer(admin.api, "Unused")
        #expect(try admin.browser.post("/offers/\(unused)/delete", []).header("location") == "/offers")
        #expect(try admin.api.get("/api/v1/offers/\(unused)").status == 404)
    }

    @Test func landersAreCreatedEditedAndDeletedThroughTheForms() throws {
        let admin = try user(.admin)
        let fields = [
            ("name", "Quiz"), ("workspace_id", ""), ("url", "https://lp.example/q?c={clickid}"), ("offers_count", "3"),
            ("status", "active"),
        ]
        let id = try redirectID(try admin.browser.post("/landers", fields), "/landers/")
        let page = try admin.browser.get("/landers/\(id)").text
        let origin = TestEnvironment.baseURL  // what campaign URLs start with
        #expect(page.contains("<code>\(origin)/click</code>") && page.contains("/click/3</code>") && !page.contains("/click/4"))
        #expect(try admin.api.get("/api/v1/landers/\(id)").json["offers_count"] as? Int == 3)

        let bad = try admin.browser.post(
            "/landers/\(id)", [("name", "Quiz"), ("url", "https://lp.example/q"), ("offers_count", "99"), ("status", "gone")])
        #expect(bad.status == 422)
        #expect(bad.text.contains("<li>offers_count: ") && bad.text.contains("<li>status: ") && bad.text.contains(#"value="99""#))

        let edited = fields.map { $0.0 == "offers_count" ? ($0.0, "2") : $0 }
        #expect(try redirectID(try admin.browser.post("/landers/\(id)", edited), "/landers/") == id)
        #expect(try admin.api.get("/api/v1/landers/\(id)").json["offers_count"] as? Int == 2)
        #expect(try admin.browser.post("/landers/\(id)/delete", []).header("location") == "/landers")
        #expect(try admin.api.get("/api/v1/landers/\(id)").status == 404)
        #expect(!(try admin.browser.get("/landers").text.contains("/landers/\(id)\"")))
    }

    @Test func aTwoPathFlowIsBuiltWithTheEditorsButtonsAndSaved() throws {
        let admin = try user(.admin)
        let tag = uniqueSuffix()
        let (o1, o2) = (try offer(admin.api, "Offer A \(tag)"), try offer(admin.api, "Offer B \(tag)"))
        let (l1, l2) = (try lander(admin.api, "Lander A \(tag)"), try lander(admin.api, "Lander B \(tag)", links: 2))

        var form = EditorPage(try admin.browser.get("/flows/new"))
        #expect(form.has("paths[0][name]") && !form.has("paths[1][name]"))
        form["name"] = "Editor flow \(tag)"
        form["paths[0][offers][0][id]"] = String(o1)
        form["paths[0][offers][0][weight]"] = "50"
        form["paths[0][offers][1][id]"] = String(o2)
        form["paths[0][offers][1][weight]"] = "50"

        // A new path goes before the default one, which keeps what was chosen.
        form = EditorPage(try admin.browser.post("/flows", form.fields + [("action", "add_path")]))
        #expect(form.has("paths[1][name]") && !form.has("paths[2][name]"))
        #expect(form["paths[1][name]"] == "Default" && form["paths[1][offers][0][id]"] == String(o1))
        #expect(form["paths[1][offers][1][weight]"] == "50")

        form["paths[0][name]"] = "DE with zone"
        form["paths[0][rules][0][field]"] = "country"
        form["paths[0][rules][0][values]"] = "de, at"
        form = EditorPage(try admin.browser.post("/flows", form.fields + [("action", "add_rule:0")]))
        #expect(form.has("paths[0][rules][1][field]") && form["paths[0][rules][0][values]"] == "de, at")
        form["paths[0][rules][1][field]"] = "param:"
        form["paths[0][rules][1][param]"] = "zone"
        form["paths[0][rules][1][op]"] = "contains"
        form["paths[0][rules][1][values]"] = "12\n13"
        form["paths[0][landers][0][id]"] = String(l1)
        form["paths[0][landers][1][id]"] = String(l2)
        form["paths[0][landers][1][weight]"] = "3"
        form["paths[0][offers][0][id]"] = String(o2)

        // Remove a row: the next one takes its place.
        form = EditorPage(try admin.browser.post("/flows", form.fields + [("action", "remove_lander:0:0")]))
        #expect(form["paths[0][landers][0][id]"] == String(l2) && form["paths[0][landers][0][weight]"] == "3")
        // Move up: the default path first, then saving is refused, naming the path that has rules last.
        form = EditorPage(try admin.browser.post("/flows", form.fields + [("action", "move_up:1")]))
        #expect(form["paths[0][name]"] == "Default" && form["paths[1][name]"] == "DE with zone")
        let refused = try admin.browser.post("/flows", form.fields + [("action", "save")])
        #expect(refused.status == 422)
        #expect(refused.text.contains("<code>paths[1].rules</code>"), "\(refused.text.prefix(3000))")
        form = EditorPage(try admin.browser.post("/flows", EditorPage(refused).fields + [("action", "move_down:0")]))
        #expect(form["paths[1][name]"] == "Default")

        let id = try redirectID(try admin.browser.post("/flows", form.fields + [("action", "save")]), "/flows/")
        let paths = try #require(try admin.api.get("/api/v1/flows/\(id)").json["paths"] as? [[String: Any]])
        #expect(paths.count == 2)
        let rules = paths[0]["rules"] as? [[String: Any]] ?? []
        #expect(rules.map { $0["field"] as? String } == ["country", "param:zone"])
        #expect(rules.map { $0["op"] as? String } == ["in", "contains"])
        #expect(rules.map { $0["values"] as? [String] ?? [] } == [["de", "at"], ["12", "13"]])
        #expect((paths[0]["landers"] as? [[String: Any]])?.map { [$0["lander_id"] as? Int, $0["weight"] as? Int] } == [[l2, 3]])
        #expect((paths[0]["offers"] as? [[String: Any]])?.map { $0["offer_id"] as? Int } == [o2])
        #expect((paths[1]["rules"] as? [Any])?.isEmpty == true)
        #expect(
            (paths[1]["offers"] as? [[String: Any]])?.map { [$0["offer_id"] as? Int, $0["weight"] as? Int] } == [[o1, 50], [o2, 50]])

        // The saved flow's page: the editor with its rows, and a split-test link per path.
        let page = try admin.browser.get("/flows/\(id)").text
        #expect(EditorPage(HTTPResponse(status: 200, headers: [], body: Array(page.utf8)))["paths[0][rules][1][param]"] == "zone")
        #expect(page.contains("/flows/\(id)/split-test?path=0") && page.contains("/flows/\(id)/split-test?path=1"))
        #expect(try admin.browser.get("/flows").text.contains("Editor flow \(tag)"))
    }

    @Test func aBadFlowListsEveryErrorBesideItsFieldAndKeepsTheInput() throws {
        let admin = try user(.admin)
        let l1 = try lander(admin.api, "Lander \(uniqueSuffix())")
        let fields = [
            ("name", ""), ("workspace_id", ""),
            ("paths[0][name]", "Rules"), ("paths[0][rules][0][field]", "country"), ("paths[0][rules][0][op]", "contains"),
            ("paths[0][rules][0][values]", "Germany"), ("paths[0][landers][0][id]", ""), ("paths[0][landers][0][weight]", ""),
            ("paths[0][landers][1][id]", String(l1)), ("paths[0][landers][1][weight]", "0"),
            ("paths[0][offers][0][id]", "999999999"), ("paths[0][offers][0][weight]", "abc"),
            ("paths[1][name]", "Last"), ("paths[1][rules][0][field]", "device"), ("paths[1][rules][0][op]", "in"),
            ("paths[1][rules][0][values]", "phone"), ("action", "save"),
        ]
        let r = try admin.browser.post("/flows", fields)
        #expect(r.status == 422)
        // Indexes are the form's rows: the lander in row 1 (row 0 was left empty) is named row 1.
        for key in [
            "name", "paths[0].rules[0].op", "paths[0].rules[0].values[0]", "paths[0].landers[1].weight", "paths[0].offers[0].offer_id",
            "paths[0].offers[0].weight", "paths[1].rules", "paths[1].rules[0].values[0]", "paths[1].offers",
        ] {
            #expect(r.text.contains("<li><code>\(key)</code> "), "\(key)")
        }
        let page = EditorPage(r)
        #expect(page["paths[0][rules][0][values]"] == "Germany" && page["paths[1][rules][0][values]"] == "phone")
        #expect(page["paths[0][offers][0][weight]"] == "abc" && page["paths[0][landers][1][weight]"] == "0")
        #expect(page["paths[0][offers][0][id]"] == "999999999" && page["paths[0][rules][0][op]"] == "contains")
        // Beside the fields, too.
        #expect(r.text.contains("Op must be in or not_in") && r.text.contains("Weight must be a whole number"))
        #expect(r.text.contains("“Germany” must be a two-letter country code") && r.text.contains("Offers needs at least one offer"))
    }

    @Test func aViewerSeesFlowsButCannotSaveThem() throws {
        let admin = try user(.admin)
        let name = "Viewer sees \(uniqueSuffix())"
        let o = try offer(admin.api, "Offer for viewer")
        let id = try created(admin.api, "/api/v1/flows", ["name": name, "paths": [["name": "Default", "offers": [["offer_id": o]]]]])
        let viewer = try user(.viewer)
        #expect(try viewer.browser.get("/flows").text.contains(name))
        let page = try viewer.browser.get("/flows/\(id)")
        #expect(page.status == 200 && page.text.contains(name) && !page.text.contains(#"value="save""#))
        #expect(!page.text.contains(#"value="add_offer:0""#) && !page.text.contains(#"value="remove_offer:0:0""#))
        let fields = EditorPage(page).fields.map { $0.0 == "name" ? ($0.0, "Renamed") : $0 }
        #expect(try viewer.browser.post("/flows/\(id)", fields + [("action", "save")]).status == 403)
        #expect(try viewer.browser.post("/flows/\(id)", fields + [("action", "add_path")]).status == 403)
        #expect(try admin.api.get("/api/v1/flows/\(id)").json["name"] as? String == name)
        #expect(try viewer.browser.get("/flows/new").status == 403)
        #expect(try viewer.browser.post("/offers", [("name", "x"), ("url", "https://o.example/"), ("status", "active")]).status == 403)
        #expect(!(try viewer.browser.get("/offers/\(o)").text.contains("Delete this offer")))
    }

    @Test func theGeneralTabPutsACampaignOnAFlowAndTheTrackingTabShowsTheLanderLinks() throws {
        let admin = try user(.admin)
        let tag = uniqueSuffix()
        let o = try offer(admin.api, "Offer \(tag)")
        let (l1, l3) = (try lander(admin.api, "One link \(tag)"), try lander(admin.api, "Three links \(tag)", links: 3))
        let flow = try created(
            admin.api, "/api/v1/flows",
            [
                "name": "Flow \(tag)",
                "paths": [
                    [
                        "name": "Mobile", "rules": [["field": "device", "op": "in", "values": ["mobile"]]], "landers": [["lander_id": l3]],
                        "offers": [["offer_id": o]],
                    ],
                    ["name": "Default", "landers": [["lander_id": l1]], "offers": [["offer_id": o]]],
                ],
            ])
        let source = try created(admin.api, "/api/v1/traffic-sources", ["name": "Source \(tag)"])
        let campaign = try created(
            admin.api, "/api/v1/campaigns", ["name": "Camp \(tag)", "traffic_source_id": source, "destination_url": "https://o.example/"])

        let general = try admin.browser.get("/campaigns/\(campaign)")
        #expect(general.text.contains(#"name="target" value="flow""#) && general.text.contains(">Flow \(tag)</option>"))
        var fields = FormFields(general.text, form: #"<form method="post" action="/campaigns/\#(campaign)""#)
        fields["target"] = "flow"
        fields["flow_id"] = String(flow)
        fields["destination_url"] = ""
        #expect(try admin.browser.post("/campaigns/\(campaign)", fields.fields).header("location") == "/campaigns/\(campaign)")
        let stored = try admin.api.get("/api/v1/campaigns/\(campaign)").json
        #expect(stored["flow_id"] as? Int == flow)
        #expect(try admin.browser.get("/campaigns/\(campaign)").text.contains(#"value="flow" checked"#))

        let tracking = try admin.browser.get("/campaigns/\(campaign)/tracking").text
        let campaignURL = try #require(stored["campaign_url"] as? String)
        let mark = try #require(campaignURL.range(of: "/c/"))
        let origin = String(campaignURL[..<mark.lowerBound])
        for path in ["/click", "/click/1", "/click/2", "/click/3"] {
            #expect(tracking.contains("<code>\(origin)\(path)</code>"), "\(path)")
        }
        #expect(!tracking.contains("/click/4") && tracking.contains(#"href="/flows/\#(flow)""#))

        // "Flow" with none chosen is an error beside the field; "Destination URL" clears the flow.
        fields["flow_id"] = ""
        let bad = try admin.browser.post("/campaigns/\(campaign)", fields.fields)
        #expect(bad.status == 422 && bad.text.contains("Flow choose a flow"))
        fields["target"] = "url"
        fields["destination_url"] = "https://o.example/?s={clickid}"
        #expect(try admin.browser.post("/campaigns/\(campaign)", fields.fields).status == 303)
        #expect(try admin.api.get("/api/v1/campaigns/\(campaign)").json["flow_id"] is NSNull)
        #expect(!(try admin.browser.get("/campaigns/\(campaign)/tracking").text.contains("lander-click-urls")))
    }

    @Test func namesAreEscapedOnEveryPage() throws {
        let admin = try user(.admin)
        let evil = "<script>alert(1)</script>"
        let fields = [
            ("name", evil), ("url", "https://o.example/?s={clickid}"), ("payout", "1"), ("currency", "USD"), ("status", "active"),
        ]
        let o = try redirectID(try admin.browser.post("/offers", fields), "/offers/")
        let l = try lander(admin.api, evil)
        let flow = try created(
            admin.api, "/api/v1/flows",
            ["name": evil, "paths": [["name": evil, "landers": [["lander_id": l]], "offers": [["offer_id": o]]]]])
        for path in ["/offers", "/offers/\(o)", "/landers", "/landers/\(l)", "/flows", "/flows/\(flow)", "/flows/new"] {
            let text = try admin.browser.get(path).text
            #expect(!text.contains("<script>alert"), "\(path)")
            if path != "/flows/new" { #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "\(path)") }
        }
    }
}

/// The fields a browser would send from one form of a page: inputs (checked radios and
/// checkboxes only), each select's chosen option, textareas; buttons left out.
struct FormFields {
    var fields: [(String, String)] = []

    init(_ html: String, form start: String) {
        guard let from = html.range(of: start), let end = html[from.upperBound...].range(of: "</form>") else { return }
        let body = String(html[from.upperBound..<end.lowerBound])
        let pattern = #"<(input|select|textarea)\b([^>]*)>(?:([\s\S]*?)</\1>)?"#
        let regex = try! NSRegularExpression(pattern: pattern)
        for match in regex.matches(in: body, range: NSRange(body.startIndex..., in: body)) {
            let tag = FormFields.group(body, match, 1)
            let attributes = FormFields.group(body, match, 2)
            guard let name = FormFields.attribute("name", in: attributes) else { continue }
            switch tag {
            case "input":
                let type = FormFields.attribute("type", in: attributes) ?? "text"
                if type == "radio" || type == "checkbox" {
                    if attributes.contains(" checked") { fields.append((name, FormFields.attribute("value", in: attributes) ?? "on")) }
                } else {
                    fields.append((name, FormFields.attribute("value", in: attributes) ?? ""))
                }
            case "select":
                let options = FormFields.group(body, match, 3).components(separatedBy: "<option").dropFirst()
                let chosen = options.first { $0.contains(" selected") } ?? options.first
                fields.append((name, chosen.map(FormFields.optionValue) ?? ""))
            default: fields.append((name, FormFields.unescape(FormFields.group(body, match, 3))))
            }
        }
    }

    subscript(name: String) -> String? {
        get { fields.first { $0.0 == name }?.1 }
        set {
            if let i = fields.firstIndex(where: { $0.0 == name }) {
                if let newValue { fields[i].1 = newValue } else { fields.remove(at: i) }
            } else if let newValue {
                fields.append((name, newValue))
            }
        }
    }

    func has(_ name: String) -> Bool { fields.contains { $0.0 == name } }

    /// An option's `value`, else its text (as a browser sends it).
    static func optionValue(_ option: String) -> String {
        let head = option.prefix { $0 != ">" }
        if let value = attribute("value", in: String(head)) { return value }
        let text = option.drop { $0 != ">" }.dropFirst()
        return unescape(String(text.prefix { $0 != "<" }).trimmingCharacters(in: .whitespaces))
    }

    static func group(_ text: String, _ match: NSTextCheckingResult, _ n: Int) -> String {
        Range(match.range(at: n), in: text).map { String(text[$0]) } ?? ""
    }

    static func attribute(_ name: String, in text: String) -> String? {
        guard let range = text.range(of: #"\b\#(name)="([^"]*)""#, options: .regularExpression) else { return nil }
        return unescape(String(text[range].dropFirst(name.count + 2).dropLast()))
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&#x2F;", with: "/").replacingOccurrences(of: "&#x3D;", with: "=")
            .replacingOccurrences(of: "&#x60;", with: "`").replacingOccurrences(of: "&amp;", with: "&")
    }
}

/// The flow editor's form on a page.
struct EditorPage {
    var form: FormFields

    init(_ response: HTTPResponse) {
        form = FormFields(response.text, form: #"class="card flow-editor""#)
    }

    var fields: [(String, String)] { form.fields }

    func has(_ name: String) -> Bool { form.has(name) }

    subscript(name: String) -> String? {
        get { form[name] }
        set { form[name] = newValue }
    }
}
