import Catalog
import Foundation
import WaymarkCore
import Web

/// Landers: the API of docs/api.md (SPEC section 9).
struct LanderRoutes {
    let shell: AdminShell
    let store: LanderStore

    func register(on router: Router) {
        router.get("/api/v1/landers", shell.api(list))
        router.post("/api/v1/landers", shell.api(create))
        router.get("/api/v1/landers/{id}", shell.api(show))
        router.patch("/api/v1/landers/{id}", shell.api(update))
        router.delete("/api/v1/landers/{id}", shell.api(delete))
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        let paging = try Paging(request)
        let (page, next) = paging.slice(try store.list(for: actor, workspace: try request.workspaceQuery()), id: \.id)
        return .json(Page(data: page.map(LanderJSON.init), nextCursor: next))
    }

    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        var reader = FieldReader(try request.jsonObject())
        var draft = LanderDraft()
        draft.apply(&reader)
        return .json(LanderJSON(try store.create(draft, by: actor, inputErrors: reader.errors)), status: 201)
    }

    private func show(_ request: Request, _ actor: Actor) throws -> Response {
        .json(LanderJSON(try store.get(try request.pathID(), for: actor)))
    }

    private func update(_ request: Request, _ actor: Actor) throws -> Response {
        let existing = try store.get(try request.pathID(), for: actor)
        var reader = FieldReader(try request.jsonObject())
        var draft = LanderDraft(existing)
        draft.apply(&reader)
        return .json(LanderJSON(try store.update(existing.id, draft, by: actor, inputErrors: reader.errors)))
    }

    private func delete(_ request: Request, _ actor: Actor) throws -> Response {
        try store.delete(try request.pathID(), by: actor)
        return Response(status: 204)
    }
}
