import Accounts
import Catalog
import Foundation
import WaymarkCore
import Web

/// Offers: the admin pages (list, new, edit, delete) over `OfferStore`, as the API uses it.
struct OfferPageRoutes {
    let shell: AdminShell
    let store: OfferStore
    let support: FlowPagesSupport

    func register(on router: Router) {
        router.get("/offers", shell.page(listPage))
        router.get("/offers/new", shell.page(newPage))
        router.post("/offers", shell.page(createFromForm))
        router.get("/offers/{id}", shell.page(editPage))
        router.post("/offers/{id}", shell.page(updateFromForm))
        router.post("/offers/{id}/delete", shell.page(deleteFromForm))
    }

    private func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        var rows = try store.list(for: actor, workspace: shell.workspaceFilter(request, actor))
        let names = try support.names(actor)
        let sort = SortOrder(request, allowed: ["name", "workspace", "payout", "status"], default: "name")
        rows.sort { a, b in
            switch sort.column {
            case "workspace": sort.ordered(a.workspaceID.flatMap { names[$0] } ?? "", b.workspaceID.flatMap { names[$0] } ?? "")
            case "payout": sort.ordered(Double(a.payout) ?? 0, Double(b.payout) ?? 0)
            case "status": sort.ordered(a.status, b.status)
            default: sort.ordered(a.name.lowercased(), b.name.lowercased())
            }
        }
        return try shell.render(
            request, actor: actor, template: "offers/list", title: "Offers",
            context: [
                "offers": rows.map { o in
                    [
                        "id": o.id, "name": o.name, "workspace": o.workspaceID.flatMap { names[$0] } ?? "Public",
                        "payout": o.payout, "currency": o.currency, "network": o.affiliateNetwork ?? "",
                        "cap": o.dailyCap.map(String.init) ?? "none", "status": o.status,
                    ] as [String: Any]
                },
                "headers": sort.headers([("name", "Name"), ("workspace", "Workspace"), ("payout", "Payout"), ("status", "Status")]),
                "can_write": actor.canWrite,
            ], section: "offers")
    }

    private func newPage(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        var draft = OfferDraft()
        draft.workspaceID = shell.workspaceFilter(request, actor)
        return try formPage(request, actor, offer: nil, values: OfferPageRoutes.values(draft), workspace: draft.workspaceID, errors: [:])
    }

    private func createFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let form = FormState(fields: try request.form())
        let (draft, inputErrors) = OfferPageRoutes.draft(form)
        do {
            let offer = try store.create(draft, by: actor, inputErrors: inputErrors)
            return AdminShell.redirect(to: "/offers/\(offer.id)", flash: "Offer \(offer.name) created.")
        } catch let error as HTTPError where error.status == 422 {
            return try formPage(
                request, actor, offer: nil, values: form.values, workspace: draft.workspaceID, errors: error.fields, status: 422)
        }
    }

    private func editPage(_ request: Request, _ actor: Actor) throws -> Response {
        let offer = try store.get(try request.pathID(), for: actor)
        return try formPage(
            request, actor, offer: offer, values: OfferPageRoutes.values(OfferDraft(offer)), workspace: offer.workspaceID, errors: [:])
    }

    private func updateFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let offer = try store.get(try request.pathID(), for: actor)
        let form = FormState(fields: try request.form())
        let (draft, inputErrors) = OfferPageRoutes.draft(form)
        do {
            let saved = try store.update(offer.id, draft, by: actor, inputErrors: inputErrors)
            return AdminShell.redirect(to: "/offers/\(saved.id)", flash: "Offer saved.")
        } catch let error as HTTPError where error.status == 422 || error.status == 409 {
            let errors = error.status == 409 ? ["workspace_id": error.message] : error.fields
            return try formPage(
                request, actor, offer: offer, values: form.values, workspace: draft.workspaceID, errors: errors, status: 422)
        }
    }

    private func deleteFromForm(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        do {
            try store.delete(id, by: actor)
        } catch let error as HTTPError where error.status == 409 {
            return AdminShell.redirect(to: "/offers/\(id)", flash: "Not deleted: " + error.message + ".")
        }
        return AdminShell.redirect(to: "/offers", flash: "Offer deleted.")
    }

    /// The form's fields as a draft; what cannot be read (a cap that is no number) is an input error.
    static func draft(_ form: FormState) -> (OfferDraft, [String: String]) {
        var draft = OfferDraft()
        var errors: [String: String] = [:]
        draft.name = form.value("name")
        draft.workspaceID = Int64(form.value("workspace_id"))
        draft.url = form.value("url")
        draft.payout = form.value("payout").nilIfEmpty ?? "0"
        draft.currency = form.value("currency").uppercased()
        draft.affiliateNetwork = form.value("affiliate_network").nilIfEmpty
        let cap = form.value("daily_cap")
        if !cap.isEmpty {
            if let n = Int(cap), n >= 1 { draft.dailyCap = n } else { errors["daily_cap"] = "must be empty (no cap) or a whole number ≥ 1" }
        }
        draft.status = form.value("status")
        return (draft, errors)
    }

    static func values(_ d: OfferDraft) -> [String: String] {
        [
            "name": d.name, "url": d.url, "payout": d.payout, "currency": d.currency, "affiliate_network": d.affiliateNetwork ?? "",
            "daily_cap": d.dailyCap.map(String.init) ?? "", "status": d.status,
        ]
    }

    private func formPage(
        _ request: Request, _ actor: Actor, offer: Offer?, values: [String: String], workspace: Int64?, errors: [String: String],
        status: Int = 200
    ) throws -> Response {
        var context: [String: Any] = [
            "values": values, "errors": errors, "has_errors": !errors.isEmpty, "error_list": FlowPagesSupport.errorList(errors),
            "workspaces": try support.workspaceOptions(actor, selected: workspace),
            "currencies": Currency.codes.map { ["code": $0, "selected": $0 == (values["currency"] ?? "USD")] },
            "statuses": FlowPagesSupport.statuses(values["status"] ?? "active"),
            "tokens": (Tokens.destination + ["offer_id", "lander_id"]).map { "{\($0)}" },
            "action": offer.map { "/offers/\($0.id)" } ?? "/offers",
            "can_edit": offer.map { actor.canEdit(workspace: $0.workspaceID) } ?? actor.canWrite,
        ]
        if let offer { context["offer"] = ["id": offer.id] }
        return try shell.render(
            request, actor: actor, template: "offers/form", title: offer.map { "Offer \($0.name)" } ?? "New offer", context: context,
            status: status, section: "offers")
    }
}
