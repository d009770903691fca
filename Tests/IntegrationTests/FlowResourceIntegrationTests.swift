import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Offers, landers and flows (SPEC section 9) and a campaign's flow, through the app and PostgreSQL.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5))) struct FlowResourceIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    func user(_ role: Role, workspaces: [String] = []) throws -> TestHTTP {
        let email = "\(role.rawValue)-\(uniqueSuffix())@example.test"
        let store = UserStore(database: database)
        try store.create(email: email, password: "correct-horse-42", role: role, workspaces: workspaces)
        var http = TestHTTP()
        http.headers = [("Authorization", "Bearer " + (try store.createToken(email: email, name: "t")))]
        return http
    }

    func workspace() throws -> (name: String, id: Int64) {
        let name = "ws-\(uniqueSuffix())"
        return (name, try database.query("INSERT INTO workspaces (name) VALUES (\(name)) RETURNING id").first!.decode("id"))
    }

    func fields(_ r: HTTPResponse) -> [String: String] {
        (r.json["error"] as? [String: Any])?["fields"] as? [String: String] ?? [:]
    }

    func message(_ r: HTTPResponse) -> String { (r.json["error"] as? [String: Any])?["message"] as? String ?? "" }

    func audited(_ type: String, _ id: Int) throws -> [String] {
        try database.query(
            "SELECT action FROM audit_log WHERE object_type = \(type) AND object_id = \(String(id)) ORDER BY id"
        ).map { try $0.decode("action") }
    }

    func create(_ api: TestHTTP, _ path: String, _ body: [String: Any]) throws -> Int {
        let r = try api.postJSON(path, body)
        #expect(r.status == 201, "\(path): \(r.text)")
        return try #require(r.json["id"] as? Int)
    }

    func offer(_ api: TestHTTP, _ name: String = "Offer", workspace: Int64? = nil) throws -> Int {
        var body: [String: Any] = ["name": name, "url": "https://offer.example/?sub={clickid}", "payout": "1.5"]
        if let workspace { body["workspace_id"] = workspace }
        return try create(api, "/api/v1/offers", body)
    }

    func lander(_ api: TestHTTP, _ name: String = "Lander", workspace: Int64? = nil) throws -> Int {
        var body: [String: Any] = ["name": name, "url": "https://lander.example/?c={clickid}", "offers_count": 2]
        if let workspace { body["workspace_id"] = workspace }
        return try create(api, "/api/v1/landers", body)
    }

    func flowBody(_ name: String, lander: Int, offers: [Int], workspace: Int64? = nil) -> [String: Any] {
        var body: [String: Any] = [
            "name": name,
            "paths": [
                [
                    "name": "DE mobile",
                    "rules": [["field": "country", "op": "in", "values": ["DE"]], ["field": "device", "op": "in", "values": ["mobile"]]],
                    "landers": [["lander_id": lander, "weight": 1]], "offers": [["offer_id": offers[0], "weight": 1]],
                ],
                ["name": "Default", "rules": [], "landers": [], "offers": offers.map { ["offer_id": $0, "weight": 50] }],
            ],
        ]
        if let workspace { body["workspace_id"] = workspace }
        return body
    }

    @Test func anOfferIsCreatedReadChangedAndDeletedWithAudit() throws {
        let admin = try user(.admin)
        let created = try admin.postJSON(
            "/api/v1/offers",
            [
                "name": "Dating DE", "url": "https://offer.example/?s={clickid}", "payout": 2.25, "currency": "eur", "daily_cap": 50,
                "affiliate_network": "MaxBounty",
            ])
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["id"] as? Int)
        #expect(created.json["payout"] as? String == "2.25")
        #expect(created.json["currency"] as? String == "EUR")
        #expect(created.json["daily_cap"] as? Int == 50)
        #expect(created.json["status"] as? String == "active")
        #expect(created.json["workspace_id"] is NSNull)
        #expect(
            Set(created.json.keys) == [
                "id", "name", "workspace_id", "url", "payout", "currency", "affiliate_network", "daily_cap", "status", "created_at",
            ])
        let changed = try admin.sendJSON(
            "PATCH", "/api/v1/offers/\(id)", ["daily_cap": NSNull(), "status": "paused", "affiliate_network": ""])
        #expect(changed.status == 200)
        #expect(changed.json["daily_cap"] is NSNull && changed.json["affiliate_network"] is NSNull)
        #expect(changed.json["status"] as? String == "paused" && changed.json["payout"] as? String == "2.25")
        #expect(try admin.get("/api/v1/offers/\(id)").json["status"] as? String == "paused")
        #expect(try admin.send("DELETE", "/api/v1/offers/\(id)").status == 204)
        #expect(try admin.get("/api/v1/offers/\(id)").status == 404)
        #expect(try admin.send("DELETE", "/api/v1/offers/\(id)").status == 404)
        #expect(try audited("offer", id) == ["create", "update", "delete"])
    }

    @Test func aLanderIsCreatedReadChangedAndDeletedWithAudit() throws {
        let admin = try user(.owner)
        let id = try lander(admin, "Quiz")
        let shown = try admin.get("/api/v1/landers/\(id)").json
        #expect(shown["offers_count"] as? Int == 2 && shown["name"] as? String == "Quiz")
        #expect(Set(shown.keys) == ["id", "name", "workspace_id", "url", "offers_count", "status", "created_at"])
        let changed = try admin.sendJSON("PATCH", "/api/v1/landers/\(id)", ["offers_count": 3, "name": "Quiz 2"])
        #expect(changed.json["offers_count"] as? Int == 3 && changed.json["name"] as? String == "Quiz 2")
        let bad = try admin.sendJSON("PATCH", "/api/v1/landers/\(id)", ["offers_count": 21, "url": "javascript:alert(1)", "status": "x"])
        #expect(bad.status == 422)
        #expect(Set(fields(bad).keys) == ["offers_count", "url", "status"])
        #expect(try admin.send("DELETE", "/api/v1/landers/\(id)").status == 204)
        #expect(try audited("lander", id) == ["create", "update", "delete"])
    }

    @Test func aFlowKeepsItsPathsAndAPatchReplacesThem() throws {
        let admin = try user(.admin)
        let o1 = try offer(admin), o2 = try offer(admin), l = try lander(admin)
        let created = try admin.postJSON("/api/v1/flows", flowBody("Split", lander: l, offers: [o1, o2]))
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.json["id"] as? Int)
        let paths = try #require(created.json["paths"] as? [[String: Any]])
        #expect(paths.count == 2)
        #expect((paths[0]["landers"] as? [[String: Any]])?.first?["lander_id"] as? Int == l)
        #expect((paths[1]["offers"] as? [[String: Any]])?.compactMap { $0["offer_id"] as? Int } == [o1, o2])
        #expect(((paths[0]["rules"] as? [[String: Any]])?.first?["values"] as? [String]) == ["DE"])
        #expect(created.json["updated_at"] is String && created.json["workspace_id"] is NSNull)
        let shown = try admin.get("/api/v1/flows/\(id)")
        #expect(NSDictionary(dictionary: shown.json) == NSDictionary(dictionary: created.json))
        let renamed = try admin.sendJSON("PATCH", "/api/v1/flows/\(id)", ["name": "Split 2"])
        #expect((renamed.json["paths"] as? [Any])?.count == 2)
        let replaced = try admin.sendJSON("PATCH", "/api/v1/flows/\(id)", ["paths": [["offers": [["offer_id": o2]]]]])
        #expect(replaced.status == 200)
        let only = try #require((replaced.json["paths"] as? [[String: Any]])?.first)
        #expect(only["name"] as? String == "Path 1")
        #expect((only["offers"] as? [[String: Any]])?.first?["weight"] as? Int == 1)
        #expect(try admin.send("DELETE", "/api/v1/flows/\(id)").status == 204)
        #expect(try audited("flow", id) == ["create", "update", "update", "delete"])
    }

    @Test func listsPageByIDAndFilterByWorkspace() throws {
        let a = try workspace(), b = try workspace()
        let admin = try user(.admin)
        let mine = try (0..<3).map { try offer(admin, "Paged \($0)", workspace: a.id) }
        let other = try offer(admin, "Other", workspace: b.id)
        var seen: [Int] = []
        var cursor: String?
        repeat {
            let page = try admin.get("/api/v1/offers?workspace_id=\(a.id)&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))
            #expect(page.status == 200)
            let ids = (page.json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            #expect(ids.count <= 2 && ids == ids.sorted())
            seen += ids
            cursor = page.json["next_cursor"] as? String
        } while cursor != nil
        #expect(mine.allSatisfy { id in seen.filter { $0 == id }.count == 1 })
        #expect(!seen.contains(other))
        #expect(seen == seen.sorted())
        #expect(try admin.get("/api/v1/offers?workspace_id=abc").status == 400)
        #expect(try admin.get("/api/v1/landers?limit=0").status == 400)
        #expect(try admin.get("/api/v1/flows?cursor=x").status == 400)
    }

    @Test func anotherWorkspacesOffersLandersAndFlowsDoNotExist() throws {
        let a = try workspace(), b = try workspace()
        let alice = try user(.member, workspaces: [a.name]), bob = try user(.member, workspaces: [b.name])
        let o = try offer(alice, workspace: a.id), l = try lander(alice, workspace: a.id)
        let f = try create(alice, "/api/v1/flows", flowBody("Alice flow", lander: l, offers: [o], workspace: a.id))
        for path in ["/api/v1/offers/\(o)", "/api/v1/landers/\(l)", "/api/v1/flows/\(f)"] {
            #expect(try bob.get(path).status == 404, "\(path)")
            #expect(try bob.sendJSON("PATCH", path, ["name": "x"]).status == 404, "\(path)")
            #expect(try bob.send("DELETE", path).status == 404, "\(path)")
        }
        for (path, id) in [("/api/v1/offers", o), ("/api/v1/landers", l), ("/api/v1/flows", f)] {
            let ids = (try bob.get(path + "?limit=500").json["data"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
            #expect(!ids.contains(id), "\(path)")
            #expect(try alice.get(path + "/\(id)").status == 200)
        }
        // Bob can neither use Alice's offer and lander nor put anything into her workspace.
        let bobOffer = try offer(bob, workspace: b.id)
        let use = try bob.postJSON("/api/v1/flows", flowBody("Bob", lander: l, offers: [bobOffer, o], workspace: b.id))
        #expect(use.status == 422)
        #expect(Set(fields(use).keys) == ["paths[0].landers[0].lander_id", "paths[1].offers[1].offer_id"])
        #expect(
            fields(try bob.postJSON("/api/v1/offers", ["name": "x", "url": "https://o.example/", "workspace_id": a.id]))["workspace_id"]
                != nil)
        // A Public flow cannot use a workspace's offer (members of other workspaces would reach it).
        let leaky = try alice.postJSON("/api/v1/flows", ["name": "Public", "paths": [["offers": [["offer_id": o]]]]])
        #expect(fields(leaky).keys.contains("paths[0].offers[0].offer_id"))
    }

    @Test func aViewerReadsButCannotWrite() throws {
        let admin = try user(.admin), viewer = try user(.viewer)
        let o = try offer(admin), l = try lander(admin)
        let f = try create(admin, "/api/v1/flows", flowBody("Public flow", lander: l, offers: [o]))
        for path in ["/api/v1/offers/\(o)", "/api/v1/landers/\(l)", "/api/v1/flows/\(f)"] {
            #expect(try viewer.get(path).status == 200, "\(path)")
            #expect(try viewer.sendJSON("PATCH", path, ["name": "x"]).status == 403, "\(path)")
            #expect(try viewer.send("DELETE", path).status == 403, "\(path)")
        }
        #expect(try viewer.postJSON("/api/v1/offers", ["name": "x", "url": "https://o.example/"]).status == 403)
        #expect(try viewer.postJSON("/api/v1/landers", ["name": "x", "url": "https://l.example/"]).status == 403)
        #expect(try viewer.postJSON("/api/v1/flows", flowBody("x", lander: l, offers: [o])).status == 403)
    }

    @Test func badOffersAndFlowsAre422NamingEveryField() throws {
        let admin = try user(.admin)
        let bad = try admin.postJSON(
            "/api/v1/offers",
            ["name": "", "url": "https://{sub}.example/", "payout": "-1", "currency": "EURO", "daily_cap": 0, "status": "live"])
        #expect(bad.status == 422)
        #expect(Set(fields(bad).keys) == ["name", "url", "payout", "currency", "daily_cap", "status"])
        let o = try offer(admin)
        let flow = try admin.postJSON(
            "/api/v1/flows",
            [
                "name": "Bad",
                "paths": [
                    [
                        "rules": [
                            ["field": "colour", "op": "in", "values": ["red"]], ["field": "country", "op": "contains", "values": ["DE"]],
                            ["field": "device", "op": "in", "values": []], ["field": "hour", "op": "in", "values": ["25"]],
                            ["field": "ip", "op": "in", "values": ["10.0.0.0/40"]],
                        ],
                        "landers": [["lander_id": 999_999_999, "weight": 1]], "offers": [["offer_id": o, "weight": 0]],
                    ],
                    ["rules": [], "offers": []],
                    ["rules": [["field": "weekday", "op": "in", "values": ["mon"]]], "offers": [["offer_id": o, "weight": 1.5]]],
                ],
            ])
        #expect(flow.status == 422)
        #expect(
            Set(fields(flow).keys) == [
                "paths[0].rules[0].field", "paths[0].rules[1].op", "paths[0].rules[2].values", "paths[0].rules[3].values[0]",
                "paths[0].rules[4].values[0]", "paths[0].landers[0].lander_id", "paths[0].offers[0].weight", "paths[1].offers",
                "paths[2].rules", "paths[2].offers[0].weight",
            ], "\(fields(flow))")
        #expect(Set(fields(try admin.postJSON("/api/v1/flows", ["name": "Empty", "paths": []])).keys) == ["paths"])
        #expect(Set(fields(try admin.postJSON("/api/v1/flows", ["name": "No paths"])).keys) == ["paths"])
        #expect(try admin.postJSON("/api/v1/flows", ["name": "x", "paths": "none"]).status == 422)
    }

    @Test func whatIsInUseIsNotDeleted() throws {
        let admin = try user(.owner)
        let o = try offer(admin), l = try lander(admin)
        let f = try create(admin, "/api/v1/flows", flowBody("Uses them \(uniqueSuffix())", lander: l, offers: [o]))
        let flowName = try #require(try admin.get("/api/v1/flows/\(f)").json["name"] as? String)
        for path in ["/api/v1/offers/\(o)", "/api/v1/landers/\(l)"] {
            let refused = try admin.send("DELETE", path)
            #expect(refused.status == 409, "\(path)")
            #expect(message(refused).contains("used by 1 flow: \"\(flowName)\""), "\(message(refused))")
        }
        let source = try create(admin, "/api/v1/traffic-sources", ["name": "Src"])
        let campaignName = "On a flow \(uniqueSuffix())"
        let campaign = try create(admin, "/api/v1/campaigns", ["name": campaignName, "traffic_source_id": source, "flow_id": f])
        let refused = try admin.send("DELETE", "/api/v1/flows/\(f)")
        #expect(refused.status == 409)
        #expect(message(refused).contains("used by 1 campaign: \"\(campaignName)\""), "\(message(refused))")
        #expect(try admin.send("DELETE", "/api/v1/campaigns/\(campaign)").status == 204)
        #expect(try admin.send("DELETE", "/api/v1/flows/\(f)").status == 204)
        #expect(try admin.send("DELETE", "/api/v1/offers/\(o)").status == 204)
        #expect(try admin.send("DELETE", "/api/v1/landers/\(l)").status == 204)
    }

    /// A flow uses only Public offers and landers and its own workspace's, and a campaign only
    /// Public flows and its own workspace's: moving one away from its users is refused.
    @Test func movingWhatIsUsedIntoAnotherWorkspaceIsRefused() throws {
        let a = try workspace(), b = try workspace()
        let admin = try user(.admin)
        let o = try offer(admin, workspace: a.id), l = try lander(admin, workspace: a.id)
        _ = try create(admin, "/api/v1/flows", flowBody("Uses A's", lander: l, offers: [o], workspace: a.id))
        // Its offer Public, this flow could move but for its campaign.
        let f = try create(
            admin, "/api/v1/flows", ["name": "Moves", "workspace_id": a.id, "paths": [["offers": [["offer_id": try offer(admin)]]]]])
        let source = try create(admin, "/api/v1/traffic-sources", ["name": "A", "workspace_id": a.id])
        _ = try create(admin, "/api/v1/campaigns", ["name": "On it", "traffic_source_id": source, "flow_id": f])
        for path in ["/api/v1/offers/\(o)", "/api/v1/landers/\(l)", "/api/v1/flows/\(f)"] {
            let moved = try admin.sendJSON("PATCH", path, ["workspace_id": b.id])
            #expect(moved.status == 409, "\(path): \(moved.text)")
            #expect(try admin.get(path).json["workspace_id"] as? Int == Int(a.id))
        }
        // Into Public every user of it can still reach it.
        #expect(try admin.sendJSON("PATCH", "/api/v1/offers/\(o)", ["workspace_id": NSNull()]).status == 200)
    }

    @Test func aCampaignTakesAFlow() throws {
        let a = try workspace()
        let alice = try user(.member, workspaces: [a.name])
        let o = try offer(alice, workspace: a.id), l = try lander(alice, workspace: a.id)
        let f = try create(alice, "/api/v1/flows", flowBody("Campaign flow", lander: l, offers: [o], workspace: a.id))
        let source = try create(alice, "/api/v1/traffic-sources", ["name": "A src", "workspace_id": a.id])
        let plain = try alice.postJSON(
            "/api/v1/campaigns", ["name": "Plain", "traffic_source_id": source, "destination_url": "https://o.example/?c={clickid}"])
        #expect(plain.status == 201 && plain.json["flow_id"] is NSNull)
        #expect(
            fields(try alice.postJSON("/api/v1/campaigns", ["name": "None", "traffic_source_id": source]))["destination_url"]
                == "is required")
        let routed = try alice.postJSON("/api/v1/campaigns", ["name": "Routed", "traffic_source_id": source, "flow_id": f])
        #expect(routed.status == 201, "\(routed.text)")
        #expect(routed.json["flow_id"] as? Int == f && routed.json["destination_url"] as? String == "")
        let id = try #require(plain.json["id"] as? Int)
        #expect(try alice.sendJSON("PATCH", "/api/v1/campaigns/\(id)", ["flow_id": f]).json["flow_id"] as? Int == f)
        #expect(try alice.sendJSON("PATCH", "/api/v1/campaigns/\(id)", ["name": "Plain 2"]).json["flow_id"] as? Int == f)
        #expect(try alice.get("/api/v1/campaigns/\(id)").json["flow_id"] as? Int == f)
        #expect(try alice.sendJSON("PATCH", "/api/v1/campaigns/\(id)", ["flow_id": NSNull()]).json["flow_id"] is NSNull)
        // Another workspace's flow, or one that does not exist, is no flow of this campaign.
        let b = try workspace()
        let bob = try user(.member, workspaces: [b.name])
        let bobFlow = try create(
            bob, "/api/v1/flows",
            ["name": "Bob's", "workspace_id": b.id, "paths": [["offers": [["offer_id": try offer(bob, workspace: b.id)]]]]])
        for flow in [bobFlow, 999_999_999] {
            let refused = try alice.sendJSON("PATCH", "/api/v1/campaigns/\(id)", ["flow_id": flow])
            #expect(refused.status == 422 && fields(refused).keys.contains("flow_id"), "\(refused.text)")
        }
        #expect(try audited("campaign", id) == ["create", "update", "update", "update"])
    }
}
