import Accounts
import Foundation
import WaymarkCore
import Web

/// Workspaces: pages (list, create, edit, members) and `/api/v1/workspaces`.
struct WorkspaceRoutes {
    let shell: AdminShell
    let store: WorkspaceStore

    func register(on router: Router) {
        router.get("/workspaces", shell.page(list))
        router.get("/workspaces/new", shell.page(new))
        router.post("/workspaces", shell.page(create))
        router.get("/workspaces/{id}", shell.page(edit))
        router.post("/workspaces/{id}", shell.page(update))
        router.post("/workspaces/{id}/members", shell.page(setMembership))
        router.get("/api/v1/workspaces", shell.api(apiList))
        router.post("/api/v1/workspaces", shell.api(apiCreate))
        router.get("/api/v1/workspaces/{id}", shell.api(apiGet))
        router.patch("/api/v1/workspaces/{id}", shell.api(apiUpdate))
    }

    private func new(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireAdmin()
        return try form(request, actor, workspace: nil, state: FormState(values: ["timezone": "UTC", "currency": "USD"]))
    }

    private func edit(_ request: Request, _ actor: Actor) throws -> Response {
        let workspace = try store.get(try request.pathID(), for: actor)
        return try form(request, actor, workspace: workspace, state: FormState(values: values(workspace, for: actor)))
    }

    private func setMembership(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        let form = FormState(fields: try request.form())
        let adding = form.value("action") != "remove"
        do {
            try store.setMembership(id, email: form.value("email"), member: adding, by: actor)
        } catch let error as HTTPError where error.status == 422 {
            return AdminShell.redirect(to: "/workspaces/\(id)", flash: "No user has the e-mail \(form.value("email")).")
        }
        return AdminShell.redirect(to: "/workspaces/\(id)", flash: adding ? "Member added." : "Member removed.")
    }

    // MARK: API

    private func apiList(_ request: Request, _ actor: Actor) throws -> Response {
        let (page, next) = try Paging(request).slice(try store.list(for: actor), id: \.id)
        return .json(Page(data: page.map(WorkspaceJSON.init), nextCursor: next))
    }

    private func apiCreate(_ request: Request, _ actor: Actor) throws -> Response {
        let workspace = try store.create(try request.decodeJSON(WorkspaceInput.self), by: actor)
        return .json(WorkspaceJSON(workspace), status: 201)
    }

    private func apiGet(_ request: Request, _ actor: Actor) throws -> Response {
        .json(WorkspaceJSON(try store.get(try request.pathID(), for: actor)))
    }

    private func apiUpdate(_ request: Request, _ actor: Actor) throws -> Response {
        .json(WorkspaceJSON(try store.update(try request.pathID(), try request.decodeJSON(WorkspaceInput.self), by: actor)))
    }

    // MARK: pages

    /// The form's values; the postback secret only for those who may change it.
    private func values(_ w: Workspace, for actor: Actor) -> [String: String] {
        let secret = actor.seesEverything ? w.postbackSecret ?? "" : (w.postbackSecret == nil ? "" : "(set: only admins see it)")
        return ["name": w.name, "timezone": w.timezone, "currency": w.currency, "postback_secret": secret]
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        var rows = try store.list(for: actor)
        let sort = SortOrder(request, allowed: ["name", "currency", "timezone", "created"], default: "name")
        rows.sort { a, b in
            switch sort.column {
            case "currency": sort.ordered(a.currency, b.currency)
            case "timezone": sort.ordered(a.timezone, b.timezone)
            case "created": sort.ordered(a.createdAt, b.createdAt)
            default: sort.ordered(a.name.lowercased(), b.name.lowercased())
            }
        }
        return try shell.render(
            request, actor: actor, template: "workspaces/list", title: "Workspaces",
            context: [
                "workspaces": rows.map {
                    [
                        "id": $0.id, "name": $0.name, "currency": $0.currency, "timezone": $0.timezone,
                        "created": RFC3339.string(from: $0.createdAt).prefix(10),
                    ]
                },
                "headers": sort.headers([("name", "Name"), ("currency", "Currency"), ("timezone", "Time zone"), ("created", "Created")]),
                "can_create": actor.seesEverything,
            ], section: "workspaces")
    }

    private func form(_ request: Request, _ actor: Actor, workspace: Workspace?, state: FormState, status: Int = 200) throws -> Response {
        var context = state.context
        if let workspace { context["workspace"] = ["id": workspace.id, "name": workspace.name] as [String: Any] }
        context["action"] = workspace.map { "/workspaces/\($0.id)" } ?? "/workspaces"
        context["currencies"] = Currency.codes.map { ["code": $0, "selected": $0 == state.values["currency"]] }
        context["can_edit"] = actor.seesEverything
        if let workspace {
            context["members"] = try store.members(workspace.id).map { ["email": $0.email, "role": $0.role] }
        }
        return try shell.render(
            request, actor: actor, template: "workspaces/form", title: workspace.map { "Workspace \($0.name)" } ?? "New workspace",
            context: context, status: status, section: "workspaces")
    }

    private func input(_ state: FormState) -> WorkspaceInput {
        WorkspaceInput(
            name: state.value("name"), timezone: state.value("timezone"), currency: state.value("currency").uppercased(),
            postbackSecret: state.value("postback_secret"))
    }

    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        var state = FormState(fields: try request.form())
        do {
            let workspace = try store.create(input(state), by: actor)
            return AdminShell.redirect(to: "/workspaces", flash: "Workspace \(workspace.name) created.")
        } catch let error as HTTPError where error.status == 422 {
            state.errors = error.fields
            return try form(request, actor, workspace: nil, state: state, status: 422)
        }
    }

    private func update(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        let existing = try store.get(id, for: actor)
        var state = FormState(fields: try request.form())
        do {
            let workspace = try store.update(id, input(state), by: actor)
            return AdminShell.redirect(to: "/workspaces/\(id)", flash: "Workspace \(workspace.name) saved.")
        } catch let error as HTTPError where error.status == 422 {
            state.errors = error.fields
            return try form(request, actor, workspace: existing, state: state, status: 422)
        }
    }
}

/// The API's workspace shape.
struct WorkspaceJSON: Encodable {
    var id: Int64
    var name: String
    var timezone: String
    var currency: String
    var hasPostbackSecret: Bool
    var createdAt: Date

    init(_ w: Workspace) {
        id = w.id
        name = w.name
        timezone = w.timezone
        currency = w.currency
        hasPostbackSecret = w.postbackSecret != nil
        createdAt = w.createdAt
    }
}
