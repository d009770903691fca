import Accounts
import Catalog
import Foundation
import WaymarkCore
import Web

/// Landers: the admin pages (list, new, edit, delete) over `LanderStore`, as the API uses it.
struct LanderPageRoutes {
    let shell: AdminShell
    let store: LanderStore
    let support: FlowPagesSupport
    let links: TrackingLinks

    func register(on router: Router) {
        router.get("/landers", shell.page(listPage))
        router.get("/landers/new", shell.page(newPage))
        router.post("/landers", shell.page(createFromForm))
        router.get("/landers/{id}", shell.page(editPage))
        router.post("/landers/{id}", shell.page(updateFromForm))
        router.post("/landers/{id}/delete", shell.page(deleteFromForm))
    }

    private func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        var rows = try store.list(for: actor, workspace: shell.workspaceFilter(request, actor))
        let names = try support.names(actor)
        let sort = SortOrder(request, allowed: ["name", "workspace", "offers", "status"], default: "name")
        rows.sort { a, b in
            switch sort.column {
            case "workspace": sort.ordered(a.workspaceID.flatMap { names[$0] } ?? "", b.workspaceID.flatMap { names[$0] } ?? "")
            case "offers": sort.ordered(a.offersCount, b.offersCount)
            case "status": sort.ordered(a.status, b.status)
            default: sort.ordered(a.name.lowercased(), b.name.lowercased())
            }
        }
        return try shell.render(
            request, actor: actor, template: "landers/list", title: "Landers",
            context: [
                "landers": rows.map { l in
                    [
                        "id": l.id, "name": l.name, "workspace": l.workspaceID.flatMap { names[$0] } ?? "Public", "url": l.url,
                        "offers": l.offersCount, "status": l.status,
                    ] as [String: Any]
                },
                "headers": sort.headers([("name", "Name"), ("workspace", "Workspace"), ("offers", "Offer links"), ("status", "Status")]),
                "can_write": actor.canWrite,
            ], section: "landers")
    }

    private func newPage(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        var draft = LanderDraft()
        draft.workspaceID = shell.workspaceFilter(request, actor)
        return try formPage(request, actor, lander: nil, values: LanderPageRoutes.values(draft), workspace: draft.workspaceID, errors: [:])
    }

    private func createFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let form = FormState(fields: try request.form())
        let (draft, inputErrors) = LanderPageRoutes.draft(form)
        do {
            let lander = try store.create(draft, by: actor, inputErrors: inputErrors)
            return AdminShell.redirect(to: "/landers/\(lander.id)", flash: "Lander \(lander.name) created.")
        } catch let error as HTTPError where error.status == 422 {
            return try formPage(
                request, actor, lander: nil, values: form.values, workspace: draft.workspaceID, errors: error.fields, status: 422)
        }
    }

    private func editPage(_ request: Request, _ actor: Actor) throws -> Response {
        let lander = try store.get(try request.pathID(), for: actor)
        return try formPage(
            request, actor, lander: lander, values: LanderPageRoutes.values(LanderDraft(lander)), workspace: lander.workspaceID,
            errors: [:])
    }

    private func updateFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let lander = try store.get(try request.pathID(), for: actor)
        let form = FormState(fields: try request.form())
        let (draft, inputErrors) = LanderPageRoutes.draft(form)
        do {
            let saved = try store.update(lander.id, draft, by: actor, inputErrors: inputErrors)
            return AdminShell.redirect(to: "/landers/\(saved.id)", flash: "Lander saved.")
        } catch let error as HTTPError where error.status == 422 || error.status == 409 {
            let errors = error.status == 409 ? ["workspace_id": error.message] : error.fields
            return try formPage(
                request, actor, lander: lander, values: form.values, workspace: draft.workspaceID, errors: errors, status: 422)
        }
    }

    private func deleteFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        do {
            try store.delete(id, by: actor)
        } catch let error as HTTPError where error.status == 409 {
            return AdminShell.redirect(to: "/landers/\(id)", flash: "Not deleted: " + error.message + ".")
        }
        return AdminShell.redirect(to: "/landers", flash: "Lander deleted.")
    }

    /// The form's fields as a draft; an offer-link count that is no number is an input error.
    static func draft(_ form: FormState) -> (LanderDraft, [String: String]) {
        var draft = LanderDraft()
        var errors: [String: String] = [:]
        draft.name = form.value("name")
        draft.workspaceID = Int64(form.value("workspace_id"))
        draft.url = form.value("url")
        if let n = Int(form.value("offers_count")) {
            draft.offersCount = n
        } else {
            errors["offers_count"] = "must be a whole number from 1 to \(Lander.maxOffers)"
        }
        draft.status = form.value("status")
        return (draft, errors)
    }

    static func values(_ d: LanderDraft) -> [String: String] {
        ["name": d.name, "url": d.url, "offers_count": String(d.offersCount), "status": d.status]
    }

    private func formPage(
        _ request: Request, _ actor: Actor, lander: Lander?, values: [String: String], workspace: Int64?, errors: [String: String],
        status: Int = 200
    ) throws -> Response {
        let count = min(Int(values["offers_count"] ?? "") ?? 1, Lander.maxOffers)
        var context: [String: Any] = [
            "values": values, "errors": errors, "has_errors": !errors.isEmpty, "error_list": FlowPagesSupport.errorList(errors),
            "workspaces": try support.workspaceOptions(actor, selected: workspace),
            "statuses": FlowPagesSupport.statuses(values["status"] ?? "active"),
            "tokens": (Tokens.destination + ["lander_id"]).map { "{\($0)}" },
            "click_urls": LanderPageRoutes.clickURLs(links, offersCount: count),
            "action": lander.map { "/landers/\($0.id)" } ?? "/landers",
            "can_edit": lander.map { actor.canEdit(workspace: $0.workspaceID) } ?? actor.canWrite,
        ]
        if let lander { context["lander"] = ["id": lander.id] }
        return try shell.render(
            request, actor: actor, template: "landers/form", title: lander.map { "Lander \($0.name)" } ?? "New lander",
            context: context, status: status, section: "landers")
    }

    /// `https://HOST/click`, then `/click/1` … `/click/N`: the links a lander's page carries.
    static func clickURLs(_ links: TrackingLinks, offersCount: Int) -> [String] {
        [links.httpsOrigin + "/click"] + (0..<max(offersCount, 0)).map { links.httpsOrigin + "/click/\($0 + 1)" }
    }
}
