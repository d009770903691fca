import Catalog
import Foundation
import WaymarkCore
import Web

/// Flows: the API of docs/api.md (SPEC section 9).
struct FlowRoutes {
    let shell: AdminShell
    let store: FlowStore

    func register(on router: Router) {
        router.get("/api/v1/flows", shell.api(list))
        router.post("/api/v1/flows", shell.api(create))
        router.get("/api/v1/flows/{id}", shell.api(show))
        router.patch("/api/v1/flows/{id}", shell.api(update))
        router.delete("/api/v1/flows/{id}", shell.api(delete))
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        let paging = try Paging(request)
        let (page, next) = paging.slice(try store.list(for: actor, workspace: try request.workspaceQuery()), id: \.id)
        return .json(Page(data: page.map(FlowJSON.init), nextCursor: next))
    }

    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        var reader = FieldReader(try request.jsonObject())
        var draft = FlowDraft()
        draft.apply(&reader)
        return .json(FlowJSON(try store.create(draft, by: actor, inputErrors: reader.errors)), status: 201)
    }

    private func show(_ request: Request, _ actor: Actor) throws -> Response {
        .json(FlowJSON(try store.get(try request.pathID(), for: actor)))
    }

    private func update(_ request: Request, _ actor: Actor) throws -> Response {
        let existing = try store.get(try request.pathID(), for: actor)
        var reader = FieldReader(try request.jsonObject())
        var draft = FlowDraft(existing)
        draft.apply(&reader)
        return .json(FlowJSON(try store.update(existing.id, draft, by: actor, inputErrors: reader.errors)))
    }

    private func delete(_ request: Request, _ actor: Actor) throws -> Response {
        try store.delete(try request.pathID(), by: actor)
        return Response(status: 204)
    }
}
