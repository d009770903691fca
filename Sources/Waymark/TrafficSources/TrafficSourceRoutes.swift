import Accounts
import Catalog
import Foundation
import WaymarkCore
import Web

/// Traffic sources: the template library, pages (list, new from template or custom, edit,
/// delete) and the API of docs/api.md.
struct TrafficSourceRoutes {
    let shell: AdminShell
    let store: TrafficSourceStore
    let campaigns: CampaignStore
    let workspaces: WorkspaceStore
    let library: TemplateLibrary

    func register(on router: Router) {
        router.get("/api/v1/templates", shell.api(templates))
        router.get("/api/v1/traffic-sources", shell.api(list))
        router.post("/api/v1/traffic-sources", shell.api(create))
        router.get("/api/v1/traffic-sources/{id}", shell.api(show))
        router.patch("/api/v1/traffic-sources/{id}", shell.api(update))
        router.delete("/api/v1/traffic-sources/{id}", shell.api(delete))

        router.get("/traffic-sources", shell.page(listPage))
        router.get("/traffic-sources/new", shell.page(newPage))
        router.post("/traffic-sources", shell.page(createFromForm))
        router.get("/traffic-sources/{id}", shell.page(editPage))
        router.post("/traffic-sources/{id}", shell.page(updateFromForm))
        router.post("/traffic-sources/{id}/delete", shell.page(deleteFromForm))
    }

    // MARK: API

    private func templates(_ request: Request, _ actor: Actor) throws -> Response {
        .json(Page(data: library.templates.map(TemplateJSON.init), nextCursor: nil))
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        let (page, next) = try Paging(request).slice(try store.list(for: actor), id: \.id)
        return .json(Page(data: page.map { TrafficSourceJSON($0) }, nextCursor: next))
    }

    /// A body with `template` starts from that template; the other fields apply over it.
    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        var reader = FieldReader(try request.jsonObject())
        var draft = TrafficSourceDraft()
        if let key = reader.string("template"), !key.isEmpty {
            guard let template = library.template(key) else {
                throw HTTPError.validation(["template": "is not a template key (GET /api/v1/templates)"])
            }
            draft = TrafficSourceDraft(template: template)
        }
        draft.apply(&reader)
        let (source, warnings) = try store.create(draft, by: actor, inputErrors: reader.errors)
        return .json(TrafficSourceJSON(source, warnings: warnings), status: 201)
    }

    private func show(_ request: Request, _ actor: Actor) throws -> Response {
        .json(TrafficSourceJSON(try store.get(try request.pathID(), for: actor)))
    }

    private func update(_ request: Request, _ actor: Actor) throws -> Response {
        let existing = try store.get(try request.pathID(), for: actor)
        var reader = FieldReader(try request.jsonObject())
        var draft = TrafficSourceDraft(existing)
        draft.apply(&reader)
        let (source, warnings) = try store.update(existing.id, draft, by: actor, inputErrors: reader.errors)
        return .json(TrafficSourceJSON(source, warnings: warnings))
    }

    private func delete(_ request: Request, _ actor: Actor) throws -> Response {
        try store.delete(try request.pathID(), by: actor)
        return Response(status: 204)
    }

    // MARK: forms

    private func createFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        var draft = try formDraft(request)
        draft.template = FormState(fields: try request.form()).value("template").nilIfEmpty
        do {
            let (source, warnings) = try store.create(draft, by: actor)
            return AdminShell.redirect(
                to: "/traffic-sources/\(source.id)", flash: (["Traffic source \(source.name) created."] + warnings).joined(separator: " "))
        } catch let error as HTTPError where error.status == 422 {
            return try formPage(request, actor, source: nil, draft: draft, errors: error.fields, status: 422)
        }
    }

    private func editPage(_ request: Request, _ actor: Actor) throws -> Response {
        let source = try store.get(try request.pathID(), for: actor)
        return try formPage(request, actor, source: source, draft: TrafficSourceDraft(source), errors: [:])
    }

    private func updateFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let source = try store.get(try request.pathID(), for: actor)
        let draft = try formDraft(request)
        do {
            let (saved, warnings) = try store.update(source.id, draft, by: actor)
            return AdminShell.redirect(
                to: "/traffic-sources/\(saved.id)", flash: (["Traffic source saved."] + warnings).joined(separator: " "))
        } catch let error as HTTPError where error.status == 422 {
            return try formPage(request, actor, source: source, draft: draft, errors: error.fields, status: 422)
        }
    }

    private func deleteFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        do {
            try store.delete(id, by: actor)
        } catch let error as HTTPError where error.status == 409 {
            return AdminShell.redirect(to: "/traffic-sources/\(id)", flash: "Not deleted: " + error.message + ".")
        }
        return AdminShell.redirect(to: "/traffic-sources", flash: "Traffic source deleted.")
    }

    // MARK: pages

    private func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = shell.workspaceFilter(request, actor)
        var rows = try store.list(for: actor, workspace: filter)
        let names = Dictionary(uniqueKeysWithValues: try workspaces.list(for: actor).map { ($0.id, $0.name) })
        let counts = Dictionary(grouping: try campaigns.list(for: actor, workspace: filter), by: \.trafficSourceID).mapValues(\.count)
        let sort = SortOrder(request, allowed: ["name", "template", "workspace", "currency"], default: "name")
        rows.sort { a, b in
            switch sort.column {
            case "template": sort.ordered(a.template ?? "~", b.template ?? "~")
            case "workspace": sort.ordered(a.workspaceID.flatMap { names[$0] } ?? "", b.workspaceID.flatMap { names[$0] } ?? "")
            case "currency": sort.ordered(a.costCurrency, b.costCurrency)
            default: sort.ordered(a.name.lowercased(), b.name.lowercased())
            }
        }
        return try shell.render(
            request, actor: actor, template: "traffic_sources/list", title: "Traffic sources",
            context: [
                "sources": rows.map { s in
                    [
                        "id": s.id, "name": s.name, "template": s.template.flatMap { library.template($0)?.name } ?? "Custom",
                        "workspace": s.workspaceID.flatMap { names[$0] } ?? "Public", "currency": s.costCurrency,
                        "parameters": s.parameters.count, "campaigns": counts[s.id] ?? 0,
                    ] as [String: Any]
                },
                "headers": sort.headers([
                    ("name", "Name"), ("template", "Template"), ("workspace", "Workspace"), ("currency", "Cost currency"),
                ]),
                "can_write": actor.canWrite,
            ], section: "sources")
    }

    private func newPage(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        if let key = request.queryValue("template") {
            var draft = TrafficSourceDraft()
            if key != "custom" {
                guard let template = library.template(key) else { throw HTTPError.notFound("no template \(key)") }
                draft = TrafficSourceDraft(template: template)
            }
            draft.workspaceID = shell.workspaceFilter(request, actor)
            return try formPage(request, actor, source: nil, draft: draft, errors: [:])
        }
        let query = request.queryValue("q") ?? ""
        return try shell.render(
            request, actor: actor, template: "traffic_sources/new", title: "New traffic source",
            context: [
                "q": query,
                "templates": library.search(query).map { t in
                    [
                        "key": t.key, "name": t.name, "parameters": t.parameters.count, "capi": t.capi != nil,
                        "postback": t.postbackUrl != nil,
                    ] as [String: Any]
                },
            ], section: "sources")
    }

    /// The source form's fields: parameter rows come as repeated `param_order`, `param_name`,
    /// `param_token` (a row with an empty name is removed; rows sort by their order number).
    private func formDraft(_ request: Request) throws -> TrafficSourceDraft {
        let fields = try request.form()
        let form = FormState(fields: fields)
        var draft = TrafficSourceDraft()
        draft.name = form.value("name")
        draft.workspaceID = Int64(form.value("workspace_id"))
        draft.costCurrency = form.value("cost_currency").uppercased()
        draft.clickIDParam = form.value("click_id_param").nilIfEmpty
        let names = fields.filter { $0.0 == "param_name" }.map { $0.1.trimmingCharacters(in: .whitespaces) }
        let tokens = fields.filter { $0.0 == "param_token" }.map { $0.1.trimmingCharacters(in: .whitespaces) }
        let orders = fields.filter { $0.0 == "param_order" }.map { Double($0.1) }
        draft.parameters = names.indices
            .filter { !names[$0].isEmpty }
            .map { i in (order: (i < orders.count ? orders[i] : nil) ?? Double(i + 1), index: i) }
            .sorted { ($0.order, $0.index) < ($1.order, $1.index) }
            .map { (names[$0.index], $0.index < tokens.count ? tokens[$0.index] : "") }
        draft.postbackEnabled = form.value("postback_enabled") == "on"
        draft.postbackURL = form.value("postback_url").nilIfEmpty
        draft.sendBack.send = form.value("postback_send").nilIfEmpty ?? "all"
        draft.sendBack.events = form.value("postback_events").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }.filter { !$0.isEmpty }
        draft.sendBack.reversals = form.value("postback_reversals") == "on"
        draft.payoutPercent = form.value("postback_payout_percent").trimmingCharacters(in: .whitespaces).nilIfEmpty ?? "100"
        draft.capiIntegrationID = Int64(form.value("capi_integration_id"))
        draft.notes = form.values["notes"] ?? ""
        return draft
    }

    private func formPage(
        _ request: Request, _ actor: Actor, source: TrafficSource?, draft: TrafficSourceDraft, errors: [String: String], status: Int = 200
    ) throws -> Response {
        let template = draft.template.flatMap { library.template($0) }
        var rows: [[String: Any]] = draft.parameters.enumerated().map {
            ["order": $0.offset + 1, "name": $0.element.name, "token": $0.element.token]
        }
        for i in 0..<3 { rows.append(["order": draft.parameters.count + i + 1, "name": "", "token": ""]) }
        var context: [String: Any] = [
            "values": [
                "name": draft.name, "click_id_param": draft.clickIDParam ?? "", "postback_url": draft.postbackURL ?? "",
                "postback_events": draft.sendBack.events.joined(separator: ", "), "postback_payout_percent": draft.payoutPercent,
                "notes": draft.notes, "template": draft.template ?? "",
            ],
            "errors": errors, "has_errors": !errors.isEmpty,
            "postback_enabled": draft.postbackEnabled,
            "postback_reversals": draft.sendBack.reversals,
            "send_options": [
                ("all", "Every conversion and status change"), ("approved", "Approved conversions only"),
                ("first", "Only the first conversion of a click"),
            ]
            .map { ["value": $0.0, "label": $0.1, "selected": $0.0 == draft.sendBack.send] },
            "rows": rows,
            "template_name": template?.name ?? "Custom",
            "placeholders": (template?.postbackPlaceholders ?? [:]).sorted { $0.key < $1.key }.map {
                ["name": $0.key, "meaning": $0.value]
            },
            "tokens": Tokens.postback.map { "{\($0)}" },
            "workspaces": [["id": "", "name": "Public (every user)", "selected": draft.workspaceID == nil]]
                + (try workspaces.list(for: actor).filter { actor.canEdit(workspace: $0.id) || $0.id == draft.workspaceID }
                    .map { ["id": String($0.id), "name": $0.name, "selected": $0.id == draft.workspaceID] }),
            "currencies": Currency.codes.map { ["code": $0, "selected": $0 == draft.costCurrency] },
            "action": source.map { "/traffic-sources/\($0.id)" } ?? "/traffic-sources",
            "can_edit": actor.canEdit(workspace: draft.workspaceID),
            "capi_options": try store.capiOptions(for: actor).map {
                ["id": String($0.id), "label": $0.label, "selected": $0.id == draft.capiIntegrationID]
            },
        ]
        if let source {
            context["source_tabs"] = ["tabs": IntegrationRoutes.tabs(source.id, active: "general")]
            context["source"] = ["id": source.id]
            context["warnings"] = draft.check().warnings
            context["campaigns"] = try campaigns.list(for: actor, trafficSource: source.id).map {
                ["id": $0.id, "name": $0.name, "status": $0.status]
            }
        }
        return try shell.render(
            request, actor: actor, template: "traffic_sources/form",
            title: source.map { "Traffic source \($0.name)" } ?? "New traffic source (\(template?.name ?? "custom"))",
            context: context, status: status, section: "sources")
    }
}
