import Accounts
import Foundation
import WaymarkCore
import Web

/// The Users page (owners only): add a user, change role and workspaces, disable, reset a password.
struct UserRoutes {
    let shell: AdminShell
    let users: UserStore
    let workspaces: WorkspaceStore

    func register(on router: Router) {
        router.get("/users", shell.page(list))
        router.get("/users/new", shell.page(new))
        router.post("/users", shell.page(create))
        router.get("/users/{id}", shell.page(edit))
        router.post("/users/{id}", shell.page(update))
        router.post("/users/{id}/disable", shell.page(disable))
        router.post("/users/{id}/enable", shell.page(enable))
        router.post("/users/{id}/reset-password", shell.page(resetPassword))
    }

    /// A generated password, on this answer only (never in a redirect, a flash or a log).
    private func resetPassword(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        let password = try users.resetPassword(id, by: actor)
        let email = try users.get(id)?.email ?? ""
        return try shell.render(
            request, actor: actor, template: "users/reset", title: "Password reset", context: ["email": email, "password": password],
            section: "users")
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireOwner()
        let all = try workspaces.list(for: actor)
        let names = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0.name) })
        var rows = try users.list()
        let sort = SortOrder(request, allowed: ["email", "role", "created"], default: "email")
        rows.sort { a, b in
            switch sort.column {
            case "role": sort.ordered(Role.allCases.firstIndex(of: a.role)!, Role.allCases.firstIndex(of: b.role)!)
            case "created": sort.ordered(a.createdAt, b.createdAt)
            default: sort.ordered(a.email.lowercased(), b.email.lowercased())
            }
        }
        return try shell.render(
            request, actor: actor, template: "users/list", title: "Users",
            context: [
                "users": rows.map { u in
                    [
                        "id": u.id, "email": u.email, "role": u.role.rawValue, "disabled": u.disabled,
                        "workspaces": u.workspaceIDs.compactMap { names[$0] }.joined(separator: ", "),
                        "created": String(RFC3339.string(from: u.createdAt).prefix(10)), "is_self": u.id == actor.userID,
                    ] as [String: Any]
                },
                "headers": sort.headers([("email", "E-mail"), ("role", "Role"), ("created", "Created")]),
            ], section: "users")
    }

    private func new(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireOwner()
        return try form(request, actor, user: nil, state: FormState(values: ["role": "member"]))
    }

    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireOwner()
        let fields = try request.form()
        var state = FormState(fields: fields)
        let chosen = fields.filter { $0.0 == "workspace" }.map(\.1)
        guard let role = Role(rawValue: state.value("role")) else {
            state.errors["role"] = "choose a role"
            return try form(request, actor, user: nil, state: state, chosen: chosen, status: 422)
        }
        do {
            try users.create(
                email: state.value("email"), password: state.values["password"] ?? "", role: role, workspaces: chosen, by: actor)
        } catch let error as AccountError {
            state.errors[error.field] = error.description
            state.values["password"] = ""
            return try form(request, actor, user: nil, state: state, chosen: chosen, status: 422)
        }
        return AdminShell.redirect(to: "/users", flash: "User \(state.value("email")) added.")
    }

    private func edit(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireOwner()
        guard let user = try users.get(try request.pathID()) else { throw HTTPError.notFound() }
        let names = try workspaces.list(for: actor).filter { user.workspaceIDs.contains($0.id) }.map(\.name)
        return try form(
            request, actor, user: user, state: FormState(values: ["email": user.email, "role": user.role.rawValue]), chosen: names)
    }

    private func update(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireOwner()
        let id = try request.pathID()
        guard let user = try users.get(id) else { throw HTTPError.notFound() }
        let fields = try request.form()
        var state = FormState(fields: fields)
        let chosen = fields.filter { $0.0 == "workspace" }.map(\.1)
        let all = try workspaces.list(for: actor)
        let ids = all.filter { chosen.contains($0.name) }.map(\.id)
        guard let role = Role(rawValue: state.value("role")) else {
            state.errors["role"] = "choose a role"
            return try form(request, actor, user: user, state: state, chosen: chosen, status: 422)
        }
        do {
            try users.update(id, role: role, workspaceIDs: ids, by: actor)
        } catch let error as HTTPError where error.status == 422 {
            state.errors = error.fields
            state.values["email"] = user.email
            return try form(request, actor, user: user, state: state, chosen: chosen, status: 422)
        }
        return AdminShell.redirect(to: "/users", flash: "User \(user.email) saved.")
    }

    private func disable(_ request: Request, _ actor: Actor) throws -> Response {
        try users.setDisabled(try request.pathID(), true, by: actor)
        return AdminShell.redirect(to: "/users", flash: "User disabled: their sessions and API tokens stopped working.")
    }

    private func enable(_ request: Request, _ actor: Actor) throws -> Response {
        try users.setDisabled(try request.pathID(), false, by: actor)
        return AdminShell.redirect(to: "/users", flash: "User enabled.")
    }

    private func form(_ request: Request, _ actor: Actor, user: User?, state: FormState, chosen: [String] = [], status: Int = 200) throws
        -> Response
    {
        var context = state.context
        if let user { context["user"] = ["id": user.id, "email": user.email, "disabled": user.disabled] as [String: Any] }
        context["action"] = user.map { "/users/\($0.id)" } ?? "/users"
        context["roles"] = Role.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == state.values["role"]] }
        context["workspaces"] = try workspaces.list(for: actor).map { ["name": $0.name, "checked": chosen.contains($0.name)] }
        return try shell.render(
            request, actor: actor, template: "users/form", title: user.map { "User \($0.email)" } ?? "New user",
            context: context, status: status, section: "users")
    }
}
