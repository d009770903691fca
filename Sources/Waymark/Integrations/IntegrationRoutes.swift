import Catalog
import Foundation
import Integrations
import WaymarkCore
import Web

/// The Integrations tab of a traffic source and the API of docs/integrations.md: provider cards, connect,
/// the OAuth callback, account selection, settings, actions, mappings, history, metrics.
struct IntegrationRoutes {
    let shell: AdminShell
    let actions: IntegrationActions
    let store: IntegrationStore
    let sources: TrafficSourceStore
    /// Test Connection calls the provider from this request: in one of the gate's few slots.
    let gate: OutboundGate

    func register(on router: Router) {
        let base = "/api/v1/traffic-sources/{id}/integrations"
        router.get(base, shell.api(list))
        router.get(base + "/{provider}", shell.api(show))
        router.patch(base + "/{provider}", shell.api(updateSettings))
        // Connect, and Refresh Auth / Reconnect: a new authorization (or GA4's credentials).
        router.post(base + "/{provider}/connect", shell.api(connect))
        router.post(base + "/{provider}/reconnect", shell.api(connect))
        router.post(base + "/{provider}/{action}", shell.api(act))
        router.put(base + "/{provider}/mappings", shell.api(replaceMappings))
        router.get(base + "/{provider}/history", shell.api(history))
        router.get(base + "/{provider}/metrics", shell.api(metrics))
        // The provider redirects the admin's browser here (or a script, with its token).
        router.get("/oauth/{provider}/callback", callback)

        router.get("/traffic-sources/{id}/integrations", shell.page(cardsPage))
        // A link, not a form: the page's CSP (form-action 'self') would stop a form's redirect to
        // the provider. The state it makes is bound to this session, so a forged link only
        // shows the admin the provider's own consent page.
        router.get("/traffic-sources/{id}/integrations/{provider}/connect", shell.page(connectPage))
        router.get("/traffic-sources/{id}/integrations/{provider}", shell.page(detailPage))
        router.post("/traffic-sources/{id}/integrations/{provider}/{action}", shell.page(actFromForm))
    }

    // MARK: API

    /// The source and provider of the path, and the integration row.
    private func load(_ request: Request, _ actor: Actor) throws -> (TrafficSource, any Provider, Integration) {
        try actions.load(try request.pathID(), request.parameters["provider"] ?? "", actor)
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        let source = try sources.get(try request.pathID(), for: actor)
        return .json(Page(data: try cards(source).map { IntegrationJSON($0.integration, $0.provider) }, nextCursor: nil))
    }

    private func show(_ request: Request, _ actor: Actor) throws -> Response {
        let (_, provider, integration) = try load(request, actor)
        return .json(IntegrationJSON(integration, provider, mappings: try store.mappings(integration.id)))
    }

    private func updateSettings(_ request: Request, _ actor: Actor) throws -> Response {
        let (_, provider, integration) = try load(request, actor)
        return .json(IntegrationJSON(try actions.updateSettings(integration, fields: try request.jsonObject(), actor: actor), provider))
    }

    private func connect(_ request: Request, _ actor: Actor) throws -> Response {
        let fields = request.body.isEmpty ? [:] : try request.jsonObject()
        switch try actions.connect(
            try request.pathID(), request.parameters["provider"] ?? "", actor: actor, binding: IntegrationActions.binding(request) ?? "",
            fields: fields)
        {
        case .authorize(let url): return .json(AuthorizeJSON(authorizeURL: url))
        case .connected(let integration): return .json(IntegrationJSON(integration, try actions.provider(integration.provider)))
        }
    }

    private func act(_ request: Request, _ actor: Actor) throws -> Response {
        let (_, provider, integration) = try load(request, actor)
        let fields = request.body.isEmpty ? [:] : try request.jsonObject()
        if let result = try perform(request.parameters["action"] ?? "", integration, fields: fields, actor: actor) {
            return .json(TestResultJSON(ok: result.ok, message: result.message))
        }
        return .json(IntegrationJSON(try store.get(integration.id)!, provider))
    }

    private func replaceMappings(_ request: Request, _ actor: Actor) throws -> Response {
        let (_, _, integration) = try load(request, actor)
        // A PUT replaces every mapping: a body without a `mappings` list is refused, not read as "none".
        guard let items = try request.jsonObject()["mappings"] as? [[String: Any]] else {
            throw HTTPError.validation(["mappings": "must be a list of {event, provider_action, enabled}"])
        }
        return .json(MappingsJSON(try actions.setMappings(integration, items, actor: actor)))
    }

    private func history(_ request: Request, _ actor: Actor) throws -> Response {
        let (_, _, integration) = try load(request, actor)
        return .json(HistoryJSON(syncs: try store.history(integration.id), pushes: try store.pushes(integration.id)))
    }

    private func metrics(_ request: Request, _ actor: Actor) throws -> Response {
        let (_, _, integration) = try load(request, actor)
        let (from, to) = try Dates.period(request, defaultDays: 30)
        return .json(try store.metrics(integration.id, level: request.queryValue("level") ?? "campaign", from: from, to: to))
    }

    /// With a token, the API's answer; from the admin's browser, back to the integration's page.
    private func callback(_ request: Request) throws -> Response {
        let provider = request.parameters["provider"] ?? ""
        let query = Dictionary(request.query, uniquingKeysWith: { a, _ in a })
        if request.header("authorization") != nil {
            return try shell.api { request, actor in
                let integration = try actions.callback(provider, query: query, binding: IntegrationActions.binding(request), actor: actor)
                return .json(IntegrationJSON(integration, try actions.provider(provider)))
            }(request)
        }
        return try shell.page { request, actor in
            do {
                let integration = try actions.callback(provider, query: query, binding: IntegrationActions.binding(request), actor: actor)
                return AdminShell.redirect(
                    to: "/traffic-sources/\(integration.sourceID)/integrations/\(provider)",
                    flash: integration.status == .pendingAccountSelection ? "Authorized: now pick the ad account." : "Reconnected.")
            } catch let error as HTTPError where error.status != 404 {
                return AdminShell.redirect(to: "/traffic-sources", flash: "Not connected: \(error.message)")
            }
        }(request)
    }

    // MARK: pages

    private func cardsPage(_ request: Request, _ actor: Actor) throws -> Response {
        let source = try sources.get(try request.pathID(), for: actor)
        return try shell.render(
            request, actor: actor, template: "integrations/cards", title: "Traffic source \(source.name): integrations",
            context: [
                "source": ["id": source.id, "name": source.name],
                "tabs": IntegrationRoutes.tabs(source.id, active: "integrations"),
                "cards": try cards(source).map { card in cardContext(card.provider, card.integration) },
                "can_edit": actor.canEdit(workspace: source.workspaceID),
            ], section: "sources")
    }

    private func connectPage(_ request: Request, _ actor: Actor) throws -> Response {
        let source = try request.pathID()
        let provider = request.parameters["provider"] ?? ""
        switch try actions.connect(source, provider, actor: actor, binding: IntegrationActions.binding(request) ?? "", fields: [:]) {
        case .authorize(let url): return .redirect(to: url)
        case .connected: return AdminShell.redirect(to: "/traffic-sources/\(source)/integrations/\(provider)", flash: "Connected.")
        }
    }

    private func actFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let (source, provider, integration) = try load(request, actor)
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
                _ = try actions.setMappings(integration, try IntegrationRoutes.formMappings(request), actor: actor)
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
    }

    /// The mapping form's rows: repeated `map_event`, `map_action`, and `map_enabled` for the events switched on.
    private static func formMappings(_ request: Request) throws -> [[String: Any]] {
        let form = try request.form()
        let events = form.filter { $0.0 == "map_event" }.map(\.1), actionsIn = form.filter { $0.0 == "map_action" }.map(\.1)
        let enabled = Set(form.filter { $0.0 == "map_enabled" }.map(\.1))
        return zip(events, actionsIn).filter { !$0.0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { ["event": $0.0, "provider_action": $0.1, "enabled": enabled.contains($0.0)] }
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

    private func detailPage(_ request: Request, _ actor: Actor) throws -> Response {
        let (source, provider, i) = try load(request, actor)
        let level = request.queryValue("level").flatMap { IntegrationStore.metricLevels.contains($0) ? $0 : nil } ?? "campaign"
        let (from, to) = try Dates.period(request, defaultDays: 30)
        let metrics = try store.metrics(i.id, level: level, from: from, to: to)
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
        context["events"] = try store.eventKeys(workspaceID: source.workspaceID).joined(separator: ", ")
        context["history"] = try store.history(i.id, limit: 30).map(IntegrationRoutes.syncContext)
        context["pushes"] = try store.pushes(i.id, limit: 30).map(IntegrationRoutes.pushContext)
        context["metrics_summary"] = metrics.summary.map(IntegrationRoutes.summaryContext)
        context["metrics_rows"] = metrics.rows.prefix(200).map(IntegrationRoutes.metricContext)
        context["levels"] = IntegrationStore.metricLevels.map { ["value": $0, "selected": $0 == level] }
        context["from"] = from
        context["to"] = to
        return try shell.render(
            request, actor: actor, template: "integrations/detail", title: "\(provider.name) on \(source.name)", context: context,
            section: "sources")
    }

    static func syncContext(_ s: IntegrationStore.SyncEntry) -> [String: Any] {
        [
            "type": s.kind, "at": RFC3339.string(from: s.startedAt), "status": s.status, "window": s.window, "read": s.read,
            "written": s.written, "error": s.error ?? "",
        ]
    }

    /// A push as the page shows it: absent values are NSNull, so a section does not look them up outside the row.
    static func pushContext(_ p: IntegrationStore.PushEntry) -> [String: Any] {
        func v(_ x: Any?) -> Any { x ?? NSNull() }
        return [
            "delivery_id": p.deliveryID, "conversion_id": v(p.conversionID), "click_id": v(p.clickID), "state": p.state,
            "attempts": p.attempts, "error": v(p.error), "queued_at": RFC3339.string(from: p.queuedAt), "http_status": v(p.httpStatus),
            "answer": v(p.answer), "payload": v(p.payload),
        ]
    }

    static func summaryContext(_ m: IntegrationStore.MetricSummary) -> [String: Any] {
        ["level": m.level, "rows": m.rows, "impressions": m.impressions, "clicks": m.clicks, "cost": m.cost, "currency": m.currency]
    }

    static func metricContext(_ m: IntegrationStore.StoredMetric) -> [String: Any] {
        [
            "day": m.day, "campaign_id": m.campaignID, "campaign_name": m.campaignName, "ad_group_id": m.adGroupID,
            "ad_group_name": m.adGroupName, "ad_id": m.adID, "ad_name": m.adName, "keyword": m.keyword, "impressions": m.impressions,
            "clicks": m.clicks, "cost": m.cost, "currency": m.currency,
        ]
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
