import Catalog
import Foundation
import Integrations
import Postgres
import WaymarkCore
import Web

/// The Integrations tab of a traffic source and the API of docs/integrations.md: provider cards, connect,
/// the OAuth callback, account selection, settings, actions, mappings, history, metrics.
struct IntegrationRoutes {
    let shell: AdminShell
    let actions: IntegrationActions
    let store: IntegrationStore
    let sources: TrafficSourceStore
    let database: PostgresPool
    /// Test Connection calls the provider from this request: in one of the gate's few slots.
    let gate: OutboundGate

    func register(on router: Router) {
        let base = "/api/v1/traffic-sources/{id}/integrations"
        router.get(
            base,
            shell.api { request, actor in
                let source = try sources.get(try request.pathID(), for: actor)
                return .jsonObject(["data": try cards(source).map { $0.integration.json($0.provider) }, "next_cursor": NSNull()])
            })
        router.get(
            base + "/{provider}",
            shell.api { request, actor in
                let (_, provider, integration) = try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
                var out = integration.json(provider)
                out["mappings"] = try store.mappings(integration.id).map {
                    ["event": $0.event, "provider_action": $0.action, "enabled": $0.enabled]
                }
                return .jsonObject(out)
            })
        router.patch(
            base + "/{provider}",
            shell.api { request, actor in
                let (_, provider, integration) = try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
                return .jsonObject(try actions.updateSettings(integration, fields: try request.jsonObject(), actor: actor).json(provider))
            })
        // Connect, and Refresh Auth / Reconnect: a new authorization (or GA4's credentials).
        let connect = shell.api { request, actor in
            let fields = request.body.isEmpty ? [:] : try request.jsonObject()
            switch try actions.connect(
                try request.pathID(), request.parameters["provider"] ?? "", actor: actor,
                binding: IntegrationActions.binding(request) ?? "", fields: fields)
            {
            case .authorize(let url): return .jsonObject(["authorize_url": url])
            case .connected(let integration): return .jsonObject(integration.json(try actions.provider(integration.provider)))
            }
        }
        router.post(base + "/{provider}/connect", connect)
        router.post(base + "/{provider}/reconnect", connect)
        router.post(
            base + "/{provider}/{action}",
            shell.api { request, actor in
                let (_, provider, integration) = try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
                let fields = request.body.isEmpty ? [:] : try request.jsonObject()
                if let result = try perform(request.parameters["action"] ?? "", integration, fields: fields, actor: actor) {
                    return .jsonObject(["ok": result.ok, "message": result.message])
                }
                return .jsonObject(try store.get(integration.id)!.json(provider))
            })
        router.put(
            base + "/{provider}/mappings",
            shell.api { request, actor in
                let (_, _, integration) = try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
                // A PUT replaces every mapping: a body without a `mappings` list is refused, not read as "none".
                guard let items = try request.jsonObject()["mappings"] as? [[String: Any]] else {
                    throw HTTPError.validation(["mappings": "must be a list of {event, provider_action, enabled}"])
                }
                let saved = try actions.setMappings(integration, items, actor: actor)
                return .jsonObject(["mappings": saved.map { ["event": $0.event, "provider_action": $0.action, "enabled": $0.enabled] }])
            })
        router.get(
            base + "/{provider}/history",
            shell.api { request, actor in
                let (_, _, integration) = try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
                return .jsonObject(["syncs": try store.history(integration.id).map(syncJSON), "pushes": try pushes(integration.id)])
            })
        router.get(
            base + "/{provider}/metrics",
            shell.api { request, actor in
                let (_, _, integration) = try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
                let (from, to) = try Dates.period(request, defaultDays: 30)
                return .jsonObject(try metrics(integration.id, level: request.queryValue("level") ?? "campaign", from: from, to: to))
            })

        // The provider redirects the admin's browser here (or a script, with its token).
        router.get(
            "/oauth/{provider}/callback",
            { request in
                let provider = request.parameters["provider"] ?? ""
                let query = Dictionary(request.query, uniquingKeysWith: { a, _ in a })
                if request.header("authorization") != nil {
                    return try shell.api { request, actor in
                        let integration = try actions.callback(
                            provider, query: query, binding: IntegrationActions.binding(request), actor: actor)
                        return .jsonObject(integration.json(try actions.provider(provider)))
                    }(request)
                }
                return try shell.page { request, actor in
                    do {
                        let integration = try actions.callback(
                            provider, query: query, binding: IntegrationActions.binding(request), actor: actor)
                        return AdminShell.redirect(
                            to: "/traffic-sources/\(integration.sourceID)/integrations/\(provider)",
                            flash: integration.status == .pendingAccountSelection ? "Authorized: now pick the ad account." : "Reconnected.")
                    } catch let error as HTTPError where error.status != 404 {
                        return AdminShell.redirect(to: "/traffic-sources", flash: "Not connected: \(error.message)")
                    }
                }(request)
            })

        router.get(
            "/traffic-sources/{id}/integrations",
            shell.page { request, actor in
                let source = try sources.get(try request.pathID(), for: actor)
                return try shell.render(
                    request, actor: actor, template: "integrations/cards", title: "Traffic source \(source.name): integrations",
                    context: [
                        "source": ["id": source.id, "name": source.name],
                        "tabs": IntegrationRoutes.tabs(source.id, active: "integrations"),
                        "cards": try cards(source).map { card in cardContext(card.provider, card.integration) },
                        "can_edit": actor.canEdit(workspace: source.workspaceID),
                    ], section: "sources")
            })
        // A link, not a form: the page's CSP (form-action 'self') would stop a form's redirect to
        // the provider. The state it makes is bound to this session, so a forged link only
        // shows the admin the provider's own consent page.
        router.get(
            "/traffic-sources/{id}/integrations/{provider}/connect",
            shell.page { request, actor in
                let source = try request.pathID()
                let provider = request.parameters["provider"] ?? ""
                switch try actions.connect(source, provider, actor: actor, binding: IntegrationActions.binding(request) ?? "", fields: [:])
                {
                case .authorize(let url): return .redirect(to: url)
                case .connected: return AdminShell.redirect(to: "/traffic-sources/\(source)/integrations/\(provider)", flash: "Connected.")
                }
            })
        router.get(
            "/traffic-sources/{id}/integrations/{provider}",
            shell.page { request, actor in
                let (source, provider, integration) = try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
                return try detailPage(request, actor, source, provider, integration)
            })
        router.post(
            "/traffic-sources/{id}/integrations/{provider}/{action}",
            shell.page { request, actor in
                let (source, provider, integration) = try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
                let back = "/traffic-sources/\(source.id)/integrations/\(provider.key)"
                var fields: [String: Any] = [:]
                for (k, v) in try request.form() { fields[k] = v }
                do {
                    switch request.parameters["action"] ?? "" {
                    case "credentials":
                        switch try actions.connect(
                            source.id, provider.key, actor: actor, binding: IntegrationActions.binding(request) ?? "", fields: fields)
                        {
                        case .authorize(let url): return .redirect(to: url)
                        case .connected: return AdminShell.redirect(to: back, flash: "\(provider.name) connected.")
                        }
                    case "settings":
                        _ = try actions.updateSettings(integration, fields: fields, actor: actor)
                        return AdminShell.redirect(to: back, flash: "Settings saved.")
                    case "mappings":
                        let form = try request.form()
                        let events = form.filter { $0.0 == "map_event" }.map(\.1), actionsIn = form.filter { $0.0 == "map_action" }.map(\.1)
                        let enabled = Set(form.filter { $0.0 == "map_enabled" }.map(\.1))
                        let items: [[String: Any]] = zip(events, actionsIn).filter { !$0.0.trimmingCharacters(in: .whitespaces).isEmpty }
                            .map { ["event": $0.0, "provider_action": $0.1, "enabled": enabled.contains($0.0)] }
                        _ = try actions.setMappings(integration, items, actor: actor)
                        return AdminShell.redirect(to: back, flash: "Conversion mappings saved.")
                    case let action:
                        let result = try perform(action, integration, fields: fields, actor: actor)
                        return AdminShell.redirect(
                            to: action == "disconnect" ? "/traffic-sources/\(source.id)/integrations" : back,
                            flash: result.map { ($0.ok ? "Test passed: " : "Test failed: ") + $0.message } ?? IntegrationRoutes.done[action]
                                ?? "Done.")
                    }
                } catch let error as HTTPError where [409, 422].contains(error.status) {
                    let detail = error.fields.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "; ")
                    return AdminShell.redirect(to: back, flash: "Not done: \(error.message)\(detail.isEmpty ? "" : " (\(detail))").")
                }
            })
    }

    static let done = [
        "select-account": "Account selected: syncing starts now.", "sync": "Sync queued: it runs within seconds.",
        "full-sync": "Full sync queued.", "pause": "Paused: nothing is pulled or pushed.", "resume": "Resumed.",
        "disconnect": "Disconnected: the stored tokens are deleted.",
    ]

    /// An action of `POST …/{provider}/{action}`; a test answers its result.
    func perform(_ action: String, _ integration: Integration, fields: [String: Any], actor: Actor) throws -> (ok: Bool, message: String)? {
        switch action {
        case "select-account": _ = try actions.selectAccount(integration, accountID: jsonText(fields["account_id"]) ?? "", actor: actor)
        case "test": return try gate.run { _ in try actions.test(integration, actor: actor) }
        case "sync": try actions.requestSync(integration, full: false, actor: actor)
        case "full-sync": try actions.requestSync(integration, full: true, actor: actor)
        case "pause": try actions.pause(integration, actor: actor)
        case "resume": try actions.resume(integration, actor: actor)
        case "disconnect": try actions.disconnect(integration, actor: actor)
        default:
            throw HTTPError.notFound(
                "no action \(action): connect, reconnect, select-account, test, sync, full-sync, pause, resume, disconnect")
        }
        return nil
    }

    /// The four providers' cards of a source, rows made for the missing ones.
    func cards(_ source: TrafficSource) throws -> [(provider: any Provider, integration: Integration)] {
        try store.providers.all.map { ($0, try store.ensure(source: source, provider: $0.key)) }
    }

    /// A traffic source's tabs (General, Integrations, Spend feeds).
    static func tabs(_ sourceID: Int64, active: String) -> [[String: Any]] {
        [
            ["href": "/traffic-sources/\(sourceID)", "label": "General", "active": active == "general"],
            ["href": "/traffic-sources/\(sourceID)/integrations", "label": "Integrations", "active": active == "integrations"],
            ["href": "/traffic-sources/\(sourceID)/spend-feeds", "label": "Spend feeds", "active": active == "feeds"],
        ]
    }

    static let statusLabels: [IntegrationStatus: String] = [
        .notConnected: "Not connected", .pendingAccountSelection: "Pick an account", .active: "Active", .paused: "Paused",
        .error: "Reconnection required",
    ]

    func cardContext(_ provider: any Provider, _ i: Integration) -> [String: Any] {
        var card: [String: Any] = [
            "key": provider.key, "name": provider.name, "initial": String(provider.name.prefix(1)), "summary": provider.summary,
            "status": i.status.rawValue, "status_label": IntegrationRoutes.statusLabels[i.status] ?? i.status.rawValue,
            "connect": i.status == .notConnected, "oauth": provider.usesOAuth, "configured": provider.isConfigured,
            "reconnect": i.status == .error, "choose": i.status == .pendingAccountSelection,
            "manage": i.status == .active || i.status == .paused,
            "failures": i.consecutiveFailures,
        ]
        if let a = i.account { card["account"] = "\(a.name) (\(a.id))" }
        if let t = i.lastSuccessAt { card["last_success"] = RFC3339.string(from: t) }
        if let e = i.lastError { card["last_error"] = e }
        return card
    }

    func syncJSON(_ s: IntegrationStore.SyncEntry) -> [String: Any] {
        [
            "type": s.kind, "started_at": RFC3339.string(from: s.startedAt), "finished_at": s.finishedAt.map(RFC3339.string) ?? NSNull(),
            "status": s.status, "window": s.window, "records_read": s.read, "records_written": s.written, "error": s.error ?? NSNull(),
        ]
    }

    /// Push History: each conversion sent through this integration and the provider's answer.
    func pushes(_ integrationID: Int64, limit: Int = 100) throws -> [[String: Any]] {
        try database.query(
            """
            SELECT d.id, d.conversion_id, d.click_id, d.state, d.attempts, d.last_error, d.created_at, d.body,
                   (SELECT http_status FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS http_status,
                   (SELECT response_excerpt FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS answer
            FROM deliveries d WHERE d.kind = 'capi' AND d.target_id = \(integrationID) ORDER BY d.id DESC LIMIT \(limit)
            """
        ).map { r in
            [
                "delivery_id": try r.decode("id", as: Int64.self), "conversion_id": r["conversion_id"] ?? NSNull(),
                "click_id": r["click_id"] ?? NSNull(),
                "state": r["state"] ?? "", "attempts": try r.decode("attempts", as: Int.self), "error": r["last_error"] ?? NSNull(),
                "queued_at": RFC3339.string(from: try r.decode("created_at")),
                "http_status": r["http_status"].flatMap { Int($0) } ?? NSNull(),
                "answer": r["answer"] ?? NSNull(), "payload": r["body"] ?? NSNull(),
            ] as [String: Any]
        }
    }

    /// Pulled metrics: a summary per level and rows by day and campaign (or the chosen level).
    func metrics(_ integrationID: Int64, level: String, from: String, to: String) throws -> [String: Any] {
        guard ["campaign", "ad_group", "ad", "keyword"].contains(level) else {
            throw HTTPError.badRequest("level must be campaign, ad_group, ad or keyword", field: "level")
        }
        let summary = try database.query(
            """
            SELECT level, count(*) AS n, sum(impressions) AS impressions, sum(clicks) AS clicks, sum(cost)::text AS cost, min(currency) AS currency
            FROM integration_metrics WHERE integration_id = \(integrationID) AND day BETWEEN \(from)::date AND \(to)::date GROUP BY level ORDER BY level
            """
        ).map { r in
            [
                "level": r["level"] ?? "", "rows": Int(r["n"] ?? "0") ?? 0, "impressions": Int64(r["impressions"] ?? "0") ?? 0,
                "clicks": Int64(r["clicks"] ?? "0") ?? 0, "cost": r["cost"] ?? "0", "currency": r["currency"] ?? "",
            ] as [String: Any]
        }
        let rows = try database.query(
            """
            SELECT day::text AS day, campaign_id, campaign_name, ad_group_id, ad_group_name, ad_id, ad_name, keyword, impressions, clicks, cost::text AS cost, currency
            FROM integration_metrics WHERE integration_id = \(integrationID) AND level = \(level) AND day BETWEEN \(from)::date AND \(to)::date
            ORDER BY day DESC, campaign_id, ad_group_id, ad_id, keyword LIMIT 2000
            """
        ).map { r in
            [
                "day": r["day"] ?? "", "campaign_id": r["campaign_id"] ?? "", "campaign_name": r["campaign_name"] ?? "",
                "ad_group_id": r["ad_group_id"] ?? "",
                "ad_group_name": r["ad_group_name"] ?? "", "ad_id": r["ad_id"] ?? "", "ad_name": r["ad_name"] ?? "",
                "keyword": r["keyword"] ?? "",
                "impressions": Int64(r["impressions"] ?? "0") ?? 0, "clicks": Int64(r["clicks"] ?? "0") ?? 0, "cost": r["cost"] ?? "0",
                "currency": r["currency"] ?? "",
            ] as [String: Any]
        }
        return ["from": from, "to": to, "level": level, "summary": summary, "rows": rows]
    }

    private func detailPage(_ request: Request, _ actor: Actor, _ source: TrafficSource, _ provider: any Provider, _ i: Integration) throws
        -> Response
    {
        let level = request.queryValue("level").flatMap { ["campaign", "ad_group", "ad", "keyword"].contains($0) ? $0 : nil } ?? "campaign"
        let (from, to) = try Dates.period(request, defaultDays: 30)
        let m = try metrics(i.id, level: level, from: from, to: to)
        let events = try database.query(
            """
            SELECT key FROM conversion_events WHERE coalesce(workspace_id, 0) = coalesce(\(source.workspaceID)::bigint, 0) ORDER BY key
            """
        ).compactMap { $0["key"] }
        var mappingRows: [[String: Any]] = try store.mappings(i.id).map { ["event": $0.event, "action": $0.action, "enabled": $0.enabled] }
        for _ in 0..<2 { mappingRows.append(["event": "", "action": "", "enabled": true]) }
        var context = cardContext(provider, i)
        context["source"] = ["id": source.id, "name": source.name]
        context["tabs"] = IntegrationRoutes.tabs(source.id, active: "integrations")
        context["can_edit"] = actor.canEdit(workspace: source.workspaceID)
        context["accounts"] = i.accounts.map { ["id": $0.id, "name": $0.name, "currency": $0.currency ?? ""] }
        context["directions"] = Integration.directions.map { ["value": $0, "selected": $0 == i.direction] }
        context["interval"] = i.intervalMinutes
        context["lookback"] = i.lookbackDays
        context["campaign_param"] = i.campaignParam
        context["settings"] = IntegrationActions.settingKeys.keys.sorted().filter {
            IntegrationRoutes.settingFor[$0]?.contains(provider.key) == true
        }
        .map { ["name": $0, "value": i.settings[$0] ?? "", "label": IntegrationRoutes.settingLabels[$0] ?? $0] }
        context["measurement_id"] = i.settings["measurement_id"] ?? ""
        context["is_ga4"] = provider.key == "ga4"
        context["pulls"] = provider.usesOAuth
        context["paused"] = i.status == .paused
        context["active"] = i.status == .active
        context["can_sync"] = i.status == .active && i.pulls && provider.usesOAuth
        context["mappings"] = mappingRows
        context["events"] = events.joined(separator: ", ")
        context["history"] = try store.history(i.id, limit: 30).map { s in
            [
                "type": s.kind, "at": RFC3339.string(from: s.startedAt), "status": s.status, "window": s.window, "read": s.read,
                "written": s.written, "error": s.error ?? "",
            ] as [String: Any]
        }
        context["pushes"] = try pushes(i.id, limit: 30)
        context["metrics_summary"] = m["summary"] ?? []
        context["metrics_rows"] = (m["rows"] as? [[String: Any]] ?? []).prefix(200).map { $0 }
        context["levels"] = ["campaign", "ad_group", "ad", "keyword"].map { ["value": $0, "selected": $0 == level] }
        context["from"] = from
        context["to"] = to
        return try shell.render(
            request, actor: actor, template: "integrations/detail", title: "\(provider.name) on \(source.name)", context: context,
            section: "sources")
    }

    static let settingFor: [String: [String]] = [
        "pixel_id": ["meta"], "pixel_code": ["tiktok"], "login_customer_id": ["google_ads"], "conversion_api": ["google_ads"],
        "test_event_code": ["meta", "tiktok"],
    ]
    static let settingLabels = [
        "pixel_id": "Pixel (dataset) id", "pixel_code": "Pixel code", "login_customer_id": "Manager (login) customer id",
        "conversion_api": "Conversion upload (click_conversions or data_manager)", "test_event_code": "Test event code",
    ]
}
