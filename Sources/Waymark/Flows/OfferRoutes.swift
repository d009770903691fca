import Catalog
import Foundation
import WaymarkCore
import Web

/// Offers: the API of docs/api.md (SPEC section 9).
struct OfferRoutes {
    let shell: AdminShell
    let store: OfferStore

    func register(on router: Router) {
        router.get("/api/v1/offers", shell.api(list))
        router.post("/api/v1/offers", shell.api(create))
        router.get("/api/v1/offers/{id}", shell.api(show))
        router.patch("/api/v1/offers/{id}", shell.api(update))
        router.delete("/api/v1/offers/{id}", shell.api(delete))
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        let paging = try Paging(request)
        let (page, next) = paging.slice(try store.list(for: actor, workspace: try request.workspaceQuery()), id: \.id)
        return .json(Page(data: page.map(OfferJSON.init), nextCursor: next))
    }

    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        var reader = FieldReader(try request.jsonObject())
        var draft = OfferDraft()
        draft.apply(&reader)
        return .json(OfferJSON(try store.create(draft, by: actor, inputErrors: reader.errors)), status: 201)
    }

    private func show(_ request: Request, _ actor: Actor) throws -> Response {
        .json(OfferJSON(try store.get(try request.pathID(), for: actor)))
    }

    private func update(_ request: Request, _ actor: Actor) throws -> Response {
        let existing = try store.get(try request.pathID(), for: actor)
        var reader = FieldReader(try request.jsonObject())
        var draft = OfferDraft(existing)
        draft.apply(&reader)
        return .json(OfferJSON(try store.update(existing.id, draft, by: actor, inputErrors: reader.errors)))
    }

    private func delete(_ request: Request, _ actor: Actor) throws -> Response {
        try store.delete(try request.pathID(), by: actor)
        return Response(status: 204)
    }
}
