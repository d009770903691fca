import Accounts
import Catalog
import Foundation
import WaymarkCore
import Web

/// Flows: the list, the editor (one form, `FlowEditorForm`; it works without JavaScript: its
/// buttons other than Save come back with the change made) and delete, over `FlowStore`.
struct FlowPageRoutes {
    let shell: AdminShell
    let store: FlowStore
    let landers: LanderStore
    let offers: OfferStore
    let campaigns: CampaignStore
    let support: FlowPagesSupport

    func register(on router: Router) {
        router.get("/flows", shell.page(listPage))
        router.get("/flows/new", shell.page(newPage))
        router.post("/flows", shell.page(createFromForm))
        router.get("/flows/{id}", shell.page(editPage))
        router.post("/flows/{id}", shell.page(updateFromForm))
        router.post("/flows/{id}/delete", shell.page(deleteFromForm))
    }

    private func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = shell.workspaceFilter(request, actor)
        var rows = try store.list(for: actor, workspace: filter)
        let names = try support.names(actor)
        let users = Dictionary(grouping: try campaigns.list(for: actor, workspace: filter).compactMap(\.flowID), by: { $0 })
            .mapValues(\.count)
        let sort = SortOrder(request, allowed: ["name", "workspace", "paths"], default: "name")
        rows.sort { a, b in
            switch sort.column {
            case "workspace": sort.ordered(a.workspaceID.flatMap { names[$0] } ?? "", b.workspaceID.flatMap { names[$0] } ?? "")
            case "paths": sort.ordered(a.paths.count, b.paths.count)
            default: sort.ordered(a.name.lowercased(), b.name.lowercased())
            }
        }
        return try shell.render(
            request, actor: actor, template: "flows/list", title: "Flows",
            context: [
                "flows": rows.map { f in
                    [
                        "id": f.id, "name": f.name, "workspace": f.workspaceID.flatMap { names[$0] } ?? "Public", "paths": f.paths.count,
                        "campaigns": users[f.id] ?? 0,
                    ] as [String: Any]
                },
                "headers": sort.headers([("name", "Name"), ("workspace", "Workspace"), ("paths", "Paths")]),
                "can_write": actor.canWrite,
            ], section: "flows")
    }

    private func newPage(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        return try editor(request, actor, flow: nil, form: .new(workspaceID: shell.workspaceFilter(request, actor)), errors: [:])
    }

    private func editPage(_ request: Request, _ actor: Actor) throws -> Response {
        let flow = try store.get(try request.pathID(), for: actor)
        return try editor(request, actor, flow: flow, form: FlowEditorForm(flow), errors: [:])
    }

    private func createFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        try submit(request, actor, flow: nil)
    }

    private func updateFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        try submit(request, actor, flow: try store.get(try request.pathID(), for: actor))
    }

    /// Save stores the flow (or shows every error beside its field); any other button changes
    /// the form and shows it again, storing nothing.
    private func submit(_ request: Request, _ actor: Actor, flow: Flow?) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        let fields = try request.form()
        var form = FlowEditorForm(fields: fields)
        let value = fields.first { $0.0 == "action" }?.1 ?? "save"
        guard let action = FlowEditorAction(value) else {
            return try editor(request, actor, flow: flow, form: form, errors: ["action": "is not a button of this form"], status: 400)
        }
        guard action == .save else {
            form.apply(action)
            return try editor(request, actor, flow: flow, form: form, errors: [:])
        }
        let (draft, index) = form.draft()
        do {
            if let flow {
                _ = try store.update(flow.id, draft, by: actor)
                return AdminShell.redirect(to: "/flows/\(flow.id)", flash: "Flow saved.")
            }
            let created = try store.create(draft, by: actor)
            return AdminShell.redirect(to: "/flows/\(created.id)", flash: "Flow \(created.name) created.")
        } catch let error as HTTPError where error.status == 422 || error.status == 409 {
            let errors =
                error.status == 409
                ? ["workspace_id": error.message]
                : Dictionary(error.fields.map { (index.formKey($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
            return try editor(request, actor, flow: flow, form: form, errors: errors, status: 422)
        }
    }

    private func deleteFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        do {
            try store.delete(id, by: actor)
        } catch let error as HTTPError where error.status == 409 {
            return AdminShell.redirect(to: "/flows/\(id)", flash: "Not deleted: " + error.message + ".")
        }
        return AdminShell.redirect(to: "/flows", flash: "Flow deleted.")
    }
}
