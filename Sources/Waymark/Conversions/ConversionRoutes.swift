import Accounts
import Catalog
import Conversions
import Foundation
import HTTPClient
import Integrations
import Postgres
import Spend
import Tracking
import WaymarkCore
import Web

/// `/postback` and `/pixel.gif` (docs/tracking.md), the conversions API, and the pages: conversions,
/// unattributed postbacks (attach to a click), a click's journey, conversion events, and the
/// postback tester of a campaign's Tracking tab.
struct ConversionRoutes {
    let shell: AdminShell
    let database: PostgresPool
    let recorder: ConversionRecorder
    let campaigns: CampaignStore
    let workspaces: WorkspaceStore
    let cache: CampaignCache
    let clicks: ClickRecorder
    let writer: ClickWriter
    let postbackOrigin: String

    /// A 1×1 transparent GIF.
    static let gif: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    func register(on router: Router) {
        router.get("/postback", postback)
        router.post("/postback", postback)
        router.get("/pixel.gif", pixel)
        // HEAD would run GET's handler (and record a conversion for a link checker): not here.
        router.add("HEAD", "/postback") { _ in throw HTTPError.methodNotAllowed(["GET", "POST"]) }
        router.add("HEAD", "/pixel.gif") { _ in
            Response(status: 200, headers: [("Content-Type", "image/gif"), ("Cache-Control", "no-store")])
        }
        router.get(
            "/api/v1/conversions",
            shell.api { request, actor in
                let filter = try ConversionFilter(request, defaultDays: 30)
                let paging = try Paging(request)
                let rows = try ConversionQueries.list(database, filter: filter, actor: actor, after: paging.after, limit: paging.limit + 1)
                let page = Array(rows.prefix(paging.limit))
                return .jsonObject([
                    "data": page.map(\.json), "next_cursor": rows.count > paging.limit ? String(page.last!.id) as Any : NSNull(),
                ])
            })
        router.get(
            "/api/v1/clicks/{click_id}",
            shell.api { request, actor in
                let click = try ClickQueries.get(database, id: request.parameters["click_id"] ?? "", actor: actor)
                var json = click.json
                json["conversions"] = try ConversionQueries.forClick(database, clickID: click.id).map(\.json)
                return .jsonObject(json)
            })

        router.get("/conversions", shell.page(listPage))
        router.get("/conversions/unattributed", shell.page(unattributedPage))
        router.post(
            "/postbacks/{id}/attach",
            shell.page { request, actor in
                let form = FormState(fields: try request.form())
                let clickID = form.value("click_id").trimmingCharacters(in: .whitespaces)
                do {
                    let result = try recorder.attach(postbackID: try request.pathID(), clickID: clickID, by: actor)
                    return AdminShell.redirect(
                        to: "/clicks/\(URLEncoding.encode(clickID))",
                        flash: "Postback attached: conversion \(result.conversionID ?? 0) \(result.outcome.rawValue).")
                } catch let error as HTTPError where error.status == 422 {
                    return AdminShell.redirect(
                        to: "/conversions/unattributed", flash: "Not attached: click id \(error.fields["click_id"] ?? error.message).")
                }
            })
        router.get("/clicks/{click_id}", shell.page(journeyPage))
        router.post("/campaigns/{id}/postback-test", shell.page(postbackTest))
        router.get("/events", shell.page(eventsPage))
        router.post("/events", shell.page(saveEvent))
    }

    // MARK: tracking endpoints

    private func postback(_ request: Request) throws -> Response {
        let raw = ConversionRecorder.Raw(request, channel: "postback")
        let pairs: [(String, String)]
        let input: PostbackInput
        do {
            pairs = try PostbackInput.pairs(of: request)
            input = try PostbackInput(pairs)
        } catch {
            try recorder.reject(raw, error: error, clickID: request.queryValue("clickid"))
        }
        let result = try recorder.record(input, raw: raw)
        return ConversionRoutes.answer(result)
    }

    static func answer(_ result: ConversionRecorder.Result) -> Response {
        switch result.outcome {
        case .unattributed: return .jsonObject(["status": "unattributed"], status: 202)
        case .forbidden:
            return .jsonObject(
                ["error": ["code": "forbidden", "message": "the workspace's postback secret is missing or wrong", "field": "secret"]],
                status: 403)
        default: return .jsonObject(["status": result.outcome.rawValue, "conversion_id": String(result.conversionID ?? 0)])
        }
    }

    /// The pixel takes only these from its query; the click comes from the cookie alone, so a
    /// page that learned a click id cannot record, reverse or re-price its conversions.
    static let pixelFields: Set<String> = ["event", "payout", "txid", "currency"]

    private func pixel(_ request: Request) throws -> Response {
        var pairs = request.query.filter { ConversionRoutes.pixelFields.contains($0.0) }
        if let click = request.cookies[TrackingRoutes.clickCookie], !click.isEmpty { pairs.append(("clickid", click)) }
        let raw = ConversionRecorder.Raw(request, channel: "pixel")
        let gif = Response(
            status: 200, headers: [("Content-Type", "image/gif"), ("Cache-Control", "no-store")], body: ConversionRoutes.gif)
        let input: PostbackInput
        do {
            input = try PostbackInput(pairs, requireClickID: false)
        } catch {
            _ = try? recorder.reject(raw, error: error, clickID: request.cookies[TrackingRoutes.clickCookie])
            return gif
        }
        _ = try? recorder.record(input, raw: raw, checkSecret: false)  // the page gets its GIF whatever happened
        return gif
    }

    // MARK: pages

    private func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = try ConversionFilter(request, defaultDays: 7)
        let rows = try ConversionQueries.list(database, filter: filter, actor: actor, after: nil, limit: 500)
        let sources = try database.query(
            "SELECT id, name FROM traffic_sources WHERE archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("workspace_id")) ORDER BY lower(name)"
        )
        let campaignRows = try campaigns.list(for: actor)
        let events = try database.query(
            "SELECT DISTINCT key FROM conversion_events WHERE \(fragment: actor.visibleWorkspaces("workspace_id")) ORDER BY key")
        return try shell.render(
            request, actor: actor, template: "conversions/list", title: "Conversions",
            context: [
                "conversions": rows.map(\.page),
                "count": rows.count, "capped": rows.count == 500,
                "from": filter.from, "to": filter.to,
                "campaigns": campaignRows.map { ["id": $0.id, "name": $0.name, "selected": $0.id == filter.campaignID] as [String: Any] },
                "sources": try sources.map {
                    [
                        "id": try $0.decode("id", as: Int64.self), "name": $0["name"] ?? "",
                        "selected": (try $0.decode("id", as: Int64.self)) == filter.sourceID,
                    ] as [String: Any]
                },
                "statuses": PostbackInput.Status.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == filter.status] },
                "events": events.map { ["value": $0["key"] ?? "", "selected": $0["key"] == filter.event] as [String: Any] },
            ], section: "conversions")
    }

    private func unattributedPage(_ request: Request, _ actor: Actor) throws -> Response {
        // An unknown click names no workspace, so only those who see every workspace see these.
        try actor.requireAdmin()
        let rows = try database.query(
            """
            SELECT id, received_at, channel, method, query, body, source_ip, click_id, event_key, txid, status, payout::text AS payout, currency
            FROM postbacks WHERE outcome = 'unattributed' ORDER BY received_at DESC, id DESC LIMIT 500
            """)
        return try shell.render(
            request, actor: actor, template: "conversions/unattributed", title: "Unattributed postbacks",
            context: [
                "postbacks": try rows.map { r in
                    [
                        "id": try r.decode("id", as: Int64.self), "received_at": RFC3339.string(from: try r.decode("received_at")),
                        "channel": r["channel"] ?? "",
                        "raw": [r["query"] ?? "", r["body"] ?? ""].filter { !$0.isEmpty }.joined(separator: " · "),
                        "source_ip": r["source_ip"] ?? "",
                        "click_id": r["click_id"] ?? "", "event": r["event_key"] ?? "", "txid": r["txid"] ?? "",
                        "status": r["status"] ?? "",
                        "payout": r["payout"] ?? "", "currency": r["currency"] ?? "",
                    ] as [String: Any]
                },
                "can_write": actor.canWrite,
            ], section: "conversions")
    }

    private func journeyPage(_ request: Request, _ actor: Actor) throws -> Response {
        let click = try ClickQueries.get(database, id: request.parameters["click_id"] ?? "", actor: actor)
        let conversions = try ConversionQueries.forClick(database, clickID: click.id)
        let postbacks = try database.query(
            """
            SELECT id, received_at, channel, method, query, body, source_ip, outcome, error, conversion_id
            FROM postbacks WHERE click_id = \(click.id) ORDER BY received_at, id
            """)
        let deliveries = try DeliveryQueries.forClick(database, clickID: click.id)
        return try shell.render(
            request, actor: actor, template: "conversions/journey", title: "Click \(click.id)",
            context: [
                "click": click.page,
                "parameters": click.parameters.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
                "conversions": conversions.map(\.page),
                "postbacks": try postbacks.map { r in
                    [
                        "id": try r.decode("id", as: Int64.self), "received_at": RFC3339.string(from: try r.decode("received_at")),
                        "channel": r["channel"] ?? "",
                        "method": r["method"] ?? "",
                        "raw": [r["query"] ?? "", r["body"] ?? ""].filter { !$0.isEmpty }.joined(separator: " · "),
                        "source_ip": r["source_ip"] ?? "", "outcome": r["outcome"] ?? "", "error": r["error"] ?? "",
                        "conversion_id": r["conversion_id"] ?? "",
                    ] as [String: Any]
                },
                "deliveries": deliveries.map(\.page),
                "can_retry": actor.canWrite,
            ], section: "conversions")
    }

    /// Makes a test click on the campaign, sends a postback for it through the real endpoint
    /// (nginx included), and shows the click's journey with the answer.
    private func postbackTest(_ request: Request, _ actor: Actor) throws -> Response {
        let campaign = try campaigns.get(try request.pathID(), for: actor)
        try actor.requireEditable(workspace: campaign.workspaceID)
        let form = FormState(fields: try request.form())
        guard let cached = cache.campaign(key: campaign.key, database: database) else {
            throw HTTPError.notFound("campaign \(campaign.key) is not loaded")
        }
        let click = clicks.click(
            for: cached,
            visit: Visit(
                parameters: [], ip: request.remoteAddress, userAgent: "Waymark postback tester", referrer: "", country: ""))
        guard writer.record(click) else { throw HTTPError.unavailable("the test click could not be stored") }
        var pairs: [(String, String)] = [("clickid", click.id)]
        for name in ["payout", "currency", "status", "event", "txid"] {
            let v = form.value(name).trimmingCharacters(in: .whitespaces)
            if !v.isEmpty { pairs.append((name, v)) }
        }
        if let workspaceID = campaign.workspaceID, let secret = try workspaces.postbackSecret(workspaceID) {
            pairs.append(("secret", secret))
        }
        let url = postbackOrigin + "/postback?" + URLEncoding.formString(pairs)
        let answer: String
        do {
            let response = try HTTPClient.send(HTTPRequest(url: url, timeout: 10, followRedirects: false))
            answer = "HTTP \(response.status) \(String(response.text.prefix(300)))"
        } catch {
            answer = "the endpoint did not answer: \(error)"
        }
        return AdminShell.redirect(to: "/clicks/\(click.id)", flash: "Test postback sent for a new test click. \(answer)")
    }

    private func eventsPage(_ request: Request, _ actor: Actor) throws -> Response {
        let rows = try database.query(
            """
            SELECT e.id, e.workspace_id, coalesce(w.name, 'Public') AS workspace, e.key, e.name, e.counts_as_conversion, e.counts_as_revenue
            FROM conversion_events e LEFT JOIN workspaces w ON w.id = e.workspace_id
            WHERE \(fragment: actor.visibleWorkspaces("e.workspace_id")) ORDER BY workspace, e.key
            """)
        return try shell.render(
            request, actor: actor, template: "conversions/events", title: "Conversion events",
            context: [
                "events": try rows.map { r in
                    [
                        "id": try r.decode("id", as: Int64.self), "workspace": r["workspace"] ?? "", "key": r["key"] ?? "",
                        "name": r["name"] ?? "",
                        "conversion": try r.decode("counts_as_conversion", as: Bool.self),
                        "revenue": try r.decode("counts_as_revenue", as: Bool.self),
                        "editable": actor.canEdit(workspace: try r.decode("workspace_id", as: Int64?.self)),
                    ] as [String: Any]
                },
                "workspaces": try workspaces.list(for: actor).filter { actor.canEdit(workspace: $0.id) }.map {
                    ["id": $0.id, "name": $0.name] as [String: Any]
                },
                "can_write": actor.canWrite,
            ], section: "conversions")
    }

    /// Creates an event (`key` new) or changes one (`id` given): name and what it counts as.
    private func saveEvent(_ request: Request, _ actor: Actor) throws -> Response {
        let form = FormState(fields: try request.form())
        let name = form.value("name").trimmingCharacters(in: .whitespaces)
        let conversion = form.value("counts_as_conversion") == "on", revenue = form.value("counts_as_revenue") == "on"
        if let id = Int64(form.value("id")) {
            guard let row = try database.query("SELECT workspace_id, key FROM conversion_events WHERE id = \(id)").first else {
                throw HTTPError.notFound("no event \(id)")
            }
            try actor.requireEditable(workspace: try row.decode("workspace_id", as: Int64?.self))
            guard !name.isEmpty, name.count <= 100 else {
                return AdminShell.redirect(to: "/events", flash: "Name is required (up to 100 characters).")
            }
            try database.transaction { c in
                try c.query(
                    "UPDATE conversion_events SET name = \(name), counts_as_conversion = \(conversion), counts_as_revenue = \(revenue) WHERE id = \(id)"
                )
                try AuditLog.record(
                    c, actor: actor, action: "update", objectType: "conversion_event", objectID: id,
                    workspaceID: try row.decode("workspace_id", as: Int64?.self),
                    new: ["name": name, "counts_as_conversion": conversion, "counts_as_revenue": revenue])
            }
            return AdminShell.redirect(to: "/events", flash: "Event \(row["key"] ?? "") saved.")
        }
        let key = form.value("key").trimmingCharacters(in: .whitespaces).lowercased()
        let workspaceID = Int64(form.value("workspace_id"))
        try actor.requireEditable(workspace: workspaceID)
        guard Slug.isValid(key) else {
            return AdminShell.redirect(to: "/events", flash: "Key must be a slug (lower-case letters, digits, _ and -).")
        }
        let created = try database.transaction { c -> Bool in
            let row = try c.query(
                """
                INSERT INTO conversion_events (workspace_id, key, name, counts_as_conversion, counts_as_revenue)
                VALUES (\(workspaceID), \(key), \(name.isEmpty ? key : name), \(conversion), \(revenue))
                ON CONFLICT (coalesce(workspace_id, 0), key) DO NOTHING RETURNING id
                """
            ).first
            if let row {
                try AuditLog.record(
                    c, actor: actor, action: "create", objectType: "conversion_event", objectID: try row.decode("id", as: Int64.self),
                    workspaceID: workspaceID, new: ["key": key])
            }
            return row != nil
        }
        return AdminShell.redirect(to: "/events", flash: created ? "Event \(key) created." : "Event \(key) exists already.")
    }
}
