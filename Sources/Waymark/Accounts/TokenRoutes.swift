import Accounts
import Foundation
import WaymarkCore
import Web

/// The API tokens page: create (the token is shown once) and revoke.
struct TokenRoutes {
    let shell: AdminShell
    let tokens: APITokenStore

    func register(on router: Router) {
        router.get("/tokens", shell.page(list))
        router.post("/tokens", shell.page(create))
        router.post("/tokens/{id}/revoke", shell.page(revoke))
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        try page(request, actor, created: nil, state: FormState())
    }

    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        var state = FormState(fields: try request.form())
        let name = state.value("name")
        guard !name.isEmpty, name.count <= 100 else {
            state.errors["name"] = "give the token a name (up to 100 characters)"
            return try page(request, actor, created: nil, state: state, status: 422)
        }
        let (_, token) = try tokens.create(for: actor, name: name)
        return try page(request, actor, created: token, state: FormState())
    }

    private func revoke(_ request: Request, _ actor: Actor) throws -> Response {
        guard try tokens.revoke(id: try request.pathID(), by: actor) else {
            throw HTTPError.notFound("no such token")
        }
        return AdminShell.redirect(to: "/tokens", flash: "Token revoked: it stopped working at once.")
    }

    private func page(_ request: Request, _ actor: Actor, created: String?, state: FormState, status: Int = 200) throws -> Response {
        var context = state.context
        if let created { context["created"] = created }
        context["tokens"] = try tokens.list(for: actor).map { t in
            [
                "id": t.id, "name": t.name, "prefix": t.prefix, "user": t.userEmail,
                "created": RFC3339.string(from: t.createdAt), "last_used": t.lastUsedAt.map(RFC3339.string(from:)) ?? "never",
                "revoked": t.revokedAt != nil,
            ] as [String: Any]
        }
        return try shell.render(
            request, actor: actor, template: "tokens/list", title: "API tokens", context: context, status: status, section: "tokens")
    }
}
