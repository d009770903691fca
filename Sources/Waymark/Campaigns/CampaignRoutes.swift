import Accounts
import Catalog
import Conversions
import Foundation
import WaymarkCore
import Web

/// Campaigns: pages (list, General and Tracking tabs) and the API of docs/api.md.
struct CampaignRoutes {
    let shell: AdminShell
    let store: CampaignStore
    let sources: TrafficSourceStore
    let workspaces: WorkspaceStore
    let links: TrackingLinks
    // The General tab's flow choice and the Tracking tab's lander links read these.
    var flows: FlowStore { FlowStore(database: store.database) }
    var landers: LanderStore { LanderStore(database: store.database) }

    func register(on router: Router) {
        router.get("/api/v1/campaigns", shell.api(list))
        router.post("/api/v1/campaigns", shell.api(create))
        router.get("/api/v1/campaigns/{id}", shell.api(show))
        router.patch("/api/v1/campaigns/{id}", shell.api(update))
        router.delete("/api/v1/campaigns/{id}", shell.api(delete))

        router.get("/campaigns", shell.page(listPage))
        router.get("/campaigns/new", shell.page(newPage))
        router.post("/campaigns", shell.page(createFromForm))
        router.get("/campaigns/{id}", shell.page(editPage))
        router.post("/campaigns/{id}", shell.page(updateFromForm))
        router.get("/campaigns/{id}/tracking", shell.page(trackingPage))
        router.post("/campaigns/{id}/delete", shell.page(deleteFromForm))
    }

    // MARK: API

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        let paging = try Paging(request)
        let filterSource = try request.queryValue("traffic_source_id").map { text throws(HTTPError) -> Int64 in
            guard let id = Int64(text) else {
                throw HTTPError.badRequest("traffic_source_id must be a number", field: "traffic_source_id")
            }
            return id
        }
        let sourcesByID = try sourceMap(actor)
        let (page, next) = paging.slice(try store.list(for: actor, trafficSource: filterSource), id: \.id)
        return .json(Page(data: page.map { campaignJSON($0, source: sourcesByID[$0.trafficSourceID], actor: actor) }, nextCursor: next))
    }

    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        var reader = FieldReader(try request.jsonObject())
        var draft = CampaignDraft()
        draft.apply(&reader)
        let (campaign, warnings) = try store.create(draft, by: actor, inputErrors: reader.errors)
        let source = try sources.get(campaign.trafficSourceID, for: actor)
        return .json(campaignJSON(campaign, source: source, actor: actor, warnings: warnings, detailed: true), status: 201)
    }

    private func show(_ request: Request, _ actor: Actor) throws -> Response {
        let campaign = try store.get(try request.pathID(), for: actor)
        let source = try sources.get(campaign.trafficSourceID, for: actor)
        return .json(
            campaignJSON(campaign, source: source, actor: actor, warnings: store.warnings(campaign, source: source), detailed: true))
    }

    private func update(_ request: Request, _ actor: Actor) throws -> Response {
        let existing = try store.get(try request.pathID(), for: actor)
        var reader = FieldReader(try request.jsonObject())
        var draft = CampaignDraft(existing)
        draft.apply(&reader)
        let (campaign, warnings) = try store.update(existing.id, draft, by: actor, inputErrors: reader.errors)
        let source = try sources.get(campaign.trafficSourceID, for: actor)
        return .json(campaignJSON(campaign, source: source, actor: actor, warnings: warnings, detailed: true))
    }

    private func delete(_ request: Request, _ actor: Actor) throws -> Response {
        try store.delete(try request.pathID(), by: actor)
        return Response(status: 204)
    }

    // MARK: forms

    private func newPage(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        var draft = CampaignDraft()
        draft.trafficSourceID = request.queryValue("traffic_source_id").flatMap { Int64($0) }
        return try generalPage(request, actor, campaign: nil, draft: draft, errors: [:])
    }

    private func createFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let (draft, inputErrors) = try formDraft(request, flowID: nil)
        do {
            let (campaign, warnings) = try store.create(draft, by: actor, inputErrors: inputErrors)
            return AdminShell.redirect(
                to: "/campaigns/\(campaign.id)/tracking", flash: (["Campaign \(campaign.name) created."] + warnings).joined(separator: " "))
        } catch let error as HTTPError where error.status == 422 {
            return try generalPage(request, actor, campaign: nil, draft: draft, errors: error.fields, status: 422)
        }
    }

    private func editPage(_ request: Request, _ actor: Actor) throws -> Response {
        let campaign = try store.get(try request.pathID(), for: actor)
        return try generalPage(request, actor, campaign: campaign, draft: CampaignDraft(campaign), errors: [:])
    }

    private func updateFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let campaign = try store.get(try request.pathID(), for: actor)
        let (draft, inputErrors) = try formDraft(request, flowID: campaign.flowID)
        do {
            let (saved, warnings) = try store.update(campaign.id, draft, by: actor, inputErrors: inputErrors)
            return AdminShell.redirect(to: "/campaigns/\(saved.id)", flash: (["Campaign saved."] + warnings).joined(separator: " "))
        } catch let error as HTTPError where error.status == 422 {
            return try generalPage(request, actor, campaign: campaign, draft: draft, errors: error.fields, status: 422)
        }
    }

    private func deleteFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        try store.delete(try request.pathID(), by: actor)
        return AdminShell.redirect(to: "/campaigns", flash: "Campaign deleted.")
    }

    private func sourceMap(_ actor: Actor) throws -> [Int64: TrafficSource] {
        Dictionary(uniqueKeysWithValues: try sources.list(for: actor).map { ($0.id, $0) })
    }

    /// The postback secret of a campaign's workspace for the postback URL (the caller has
    /// already checked that the actor sees the campaign); `{secret}` in its place for those
    /// who cannot edit the workspace's campaigns.
    private func postbackURL(_ workspaceID: Int64?, for actor: Actor) throws -> String {
        guard let workspaceID, let secret = try workspaces.postbackSecret(workspaceID) else { return links.postbackURL(secret: nil) }
        return actor.canEdit(workspace: workspaceID)
            ? links.postbackURL(secret: secret) : links.postbackURL(secret: nil) + "&secret={secret}"
    }

    func campaignJSON(_ c: Campaign, source: TrafficSource?, actor: Actor, warnings: [String]? = nil, detailed: Bool = false)
        -> CampaignJSON
    {
        CampaignJSON(
            c, postbackURL: (try? postbackURL(c.workspaceID, for: actor)) ?? links.postbackURL(secret: nil),
            outdated: source.map { store.isOutdated(c, source: $0) }, warnings: warnings,
            // One campaign: what is in effect once inheritance is resolved (a query, so not in lists).
            effective: detailed ? (try? store.effectiveReporting(c)) : nil)
    }

    // MARK: pages

    private func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = shell.workspaceFilter(request, actor)
        let sourceFilter = request.queryValue("traffic_source_id").flatMap { Int64($0) }
        var rows = try store.list(for: actor, workspace: filter, trafficSource: sourceFilter)
        let byID = try sourceMap(actor)
        let sort = SortOrder(request, allowed: ["name", "source", "status", "created"], default: "name")
        rows.sort { a, b in
            switch sort.column {
            case "source": sort.ordered(byID[a.trafficSourceID]?.name.lowercased() ?? "", byID[b.trafficSourceID]?.name.lowercased() ?? "")
            case "status": sort.ordered(a.status, b.status)
            case "created": sort.ordered(a.createdAt, b.createdAt)
            default: sort.ordered(a.name.lowercased(), b.name.lowercased())
            }
        }
        return try shell.render(
            request, actor: actor, template: "campaigns/list", title: "Campaigns",
            context: [
                "campaigns": rows.map { c in
                    [
                        "id": c.id, "name": c.name, "key": c.key, "source": byID[c.trafficSourceID]?.name ?? "", "status": c.status,
                        "cost_model": c.costModel.rawValue, "created": String(RFC3339.string(from: c.createdAt).prefix(10)),
                    ] as [String: Any]
                },
                "headers": sort.headers([("name", "Name"), ("source", "Traffic source"), ("status", "Status"), ("created", "Created")]),
                "can_write": actor.canWrite,
            ], section: "campaigns")
    }

    /// The General tab's fields. `target` is `url` (no flow) or `flow` (the `flow_id` chosen);
    /// a form without it (an older page) keeps `flowID`.
    private func formDraft(_ request: Request, flowID: Int64?) throws -> (CampaignDraft, [String: String]) {
        let form = FormState(fields: try request.form())
        var draft = CampaignDraft()
        var inputErrors: [String: String] = [:]
        switch form.values["target"] {
        case nil: draft.flowID = flowID
        case "flow":
            draft.flowID = Int64(form.value("flow_id"))
            if draft.flowID == nil { inputErrors["flow_id"] = "choose a flow (or send the clicks to the destination URL)" }
        default: draft.flowID = nil
        }
        draft.name = form.value("name")
        draft.trafficSourceID = Int64(form.value("traffic_source_id"))
        draft.destinationURL = form.value("destination_url")
        draft.fallbackURL = form.value("fallback_url").nilIfEmpty
        draft.status = form.value("status")
        draft.costModel = Campaign.CostModel(rawValue: form.value("cost_model")) ?? .none
        draft.costAmount = form.value("cost_amount").nilIfEmpty ?? "0"
        var reporting = ConversionReporting()
        reporting.method = ConversionReporting.Method(rawValue: form.value("reporting")) ?? .source
        reporting.postbackURL = form.value("reporting_postback_url").trimmingCharacters(in: .whitespaces).nilIfEmpty
        reporting.integrationID = Int64(form.value("reporting_integration_id"))
        reporting.rules.send = form.value("reporting_send").nilIfEmpty ?? "all"
        reporting.rules.events = form.value("reporting_events").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }.filter { !$0.isEmpty }
        reporting.rules.reversals = form.value("reporting_reversals") == "on"
        reporting.payoutPercent = form.value("reporting_payout_percent").trimmingCharacters(in: .whitespaces).nilIfEmpty ?? "100"
        draft.reporting = reporting
        return (draft, inputErrors)
    }

    private func tabs(_ campaign: Campaign, active: String) -> [[String: Any]] {
        [("general", "General", "/campaigns/\(campaign.id)"), ("tracking", "Tracking", "/campaigns/\(campaign.id)/tracking")]
            .map { ["label": $0.1, "href": $0.2, "active": $0.0 == active] }
    }

    private func generalPage(
        _ request: Request, _ actor: Actor, campaign: Campaign?, draft: CampaignDraft, errors: [String: String], status: Int = 200
    ) throws -> Response {
        let all = try sources.list(for: actor, workspace: shell.workspaceFilter(request, actor)).filter {
            actor.canEdit(workspace: $0.workspaceID) || $0.id == draft.trafficSourceID
        }
        let source = all.first { $0.id == draft.trafficSourceID }
        // Flows a campaign of this source may use: Public ones and the source's workspace's.
        let usableFlows = try flows.list(for: actor).filter {
            $0.workspaceID == nil || source == nil || $0.workspaceID == source?.workspaceID || $0.id == draft.flowID
        }
        var context: [String: Any] = [
            "target_flow": draft.flowID != nil || errors["flow_id"] != nil,
            "flows": usableFlows.map { ["id": $0.id, "name": $0.name, "selected": $0.id == draft.flowID] as [String: Any] },
            "values": [
                "name": draft.name, "destination_url": draft.destinationURL, "fallback_url": draft.fallbackURL ?? "",
                "cost_amount": draft.costAmount,
            ],
            "errors": errors, "has_errors": !errors.isEmpty,
            "sources": all.map {
                ["id": $0.id, "name": $0.name, "currency": $0.costCurrency, "selected": $0.id == draft.trafficSourceID] as [String: Any]
            },
            "statuses": ["active", "paused"].map { ["value": $0, "selected": $0 == draft.status] },
            "cost_models": Campaign.CostModel.allCases.map { ["value": $0.rawValue, "selected": $0 == draft.costModel] },
            "tokens": (Tokens.destination + (source?.parameters.map(\.name) ?? [])).map { "{\($0)}" },
            "action": campaign.map { "/campaigns/\($0.id)" } ?? "/campaigns",
            "can_edit": actor.canWrite,
            "reporting_methods": [
                ("source", "As the traffic source"), ("postback", "Its own postback URL"), ("capi", "A Conversion-API integration"),
                ("none", "None"),
            ]
            .map { ["value": $0.0, "label": $0.1, "selected": $0.0 == draft.reporting.method.rawValue] },
            "reporting_integrations": try sources.capiOptions(for: actor).map {
                ["id": String($0.id), "label": $0.label, "selected": $0.id == draft.reporting.integrationID]
            },
            "reporting_sends": SendBackRules.sendOptions.map { ["value": $0, "selected": $0 == draft.reporting.rules.send] },
            "reporting": [
                "postback_url": draft.reporting.postbackURL ?? "", "events": draft.reporting.rules.events.joined(separator: ", "),
                "payout_percent": draft.reporting.payoutPercent, "reversals": draft.reporting.rules.reversals,
            ] as [String: Any],
            "reporting_errors": errors.filter { $0.key.hasPrefix("conversion_reporting.") }.sorted { $0.key < $1.key }
                .map { "\($0.key.dropFirst("conversion_reporting.".count).replacingOccurrences(of: "_", with: " ")) \($0.value)" },
        ]
        if let campaign, let source {
            context["campaign"] = ["id": campaign.id, "currency": campaign.currency, "key": campaign.key]
            context["tabs"] = tabs(campaign, active: "general")
            context["warnings"] = store.warnings(campaign, source: source)
            if let effective = try store.effectiveReporting(campaign) {
                context["effective"] = ["description": effective.description, "warnings": effective.warnings] as [String: Any]
            }
        }
        return try shell.render(
            request, actor: actor, template: "campaigns/general", title: campaign.map { "Campaign \($0.name)" } ?? "New campaign",
            context: context, status: status, section: "campaigns")
    }

    private func trackingPage(_ request: Request, _ actor: Actor) throws -> Response {
        let campaign = try store.get(try request.pathID(), for: actor)
        let source = try sources.get(campaign.trafficSourceID, for: actor)
        let httpURL =
            campaign.campaignURL.hasPrefix(links.httpsOrigin)
            ? links.httpOrigin + campaign.campaignURL.dropFirst(links.httpsOrigin.count) : campaign.campaignURL
        let postback = try postbackURL(campaign.workspaceID, for: actor)
        let networks: [(String, String)] = [
            ("Everflow", "{sub1}"), ("CAKE", "#s2#"), ("HasOffers / TUNE", "{aff_sub}"), ("Affise", "{sub1}"), ("ClickBank", "[TID]"),
        ]
        var context: [String: Any] = [
            "campaign": ["id": campaign.id, "key": campaign.key, "name": campaign.name, "currency": campaign.currency],
            "tabs": tabs(campaign, active: "tracking"),
            "can_test": actor.canEdit(workspace: campaign.workspaceID),
            "https_url": campaign.campaignURL, "http_url": httpURL,
            "outdated": store.isOutdated(campaign, source: source),
            "source": ["id": source.id, "name": source.name],
            "parameters": source.parameters.map { ["name": $0.name, "token": $0.token] },
            "postback_url": postback,
            "examples": networks.map {
                ["network": $0.0, "url": postback.replacingOccurrences(of: "clickid={clickid}", with: "clickid=" + $0.1)]
            },
            "warnings": store.warnings(campaign, source: source),
        ]
        if let flow = try flowLinks(campaign, actor: actor) { context["flow"] = flow }
        return try shell.render(
            request, actor: actor, template: "campaigns/tracking", title: "Campaign \(campaign.name)", context: context,
            section: "campaigns")
    }

    /// For a campaign on a flow: the flow, and the links its landers carry (`/click`, and
    /// `/click/1` … up to the most offer links any of its landers has).
    private func flowLinks(_ campaign: Campaign, actor: Actor) throws -> [String: Any]? {
        guard let id = campaign.flowID, let flow = try? flows.get(id, for: actor) else { return nil }
        let used = Set(flow.paths.flatMap { $0.landers.map(\.id) })
        let most = try landers.list(for: actor).filter { used.contains($0.id) }.map(\.offersCount).max()
        return [
            "id": flow.id, "name": flow.name, "has_landers": most != nil,
            "lander_urls": most.map { LanderPageRoutes.clickURLs(links, offersCount: $0) } ?? [],
        ]
    }
}
