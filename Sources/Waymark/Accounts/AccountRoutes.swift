import Accounts
import Foundation
import WaymarkCore
import Web

/// Login, logout and the user's own account page (password change); the home page is HomePage.
struct AccountRoutes {
    let shell: AdminShell
    let users: UserStore
    let sessions: SessionStore
    let throttle: LoginThrottle
    let workspaces: WorkspaceStore

    func register(on router: Router) {
        router.get("/login", loginPage)
        router.post("/login", login)
        router.post("/logout", shell.page(logout))
        router.get("/account", shell.page(account))
        router.post("/account/password", shell.page(changePassword))
    }

    private func account(_ request: Request, _ actor: Actor) throws -> Response {
        try shell.render(request, actor: actor, template: "account/password", title: "Your account", section: "account")
    }

    private func changePassword(_ request: Request, _ actor: Actor) throws -> Response {
        var state = FormState(fields: try request.form())
        let new = state.values["new_password"] ?? ""
        do {
            guard new == (state.values["confirm_password"] ?? "") else {
                throw AccountError("the two new passwords differ", field: "confirm_password")
            }
            try users.changePassword(
                by: actor, current: state.values["current_password"] ?? "", new: new,
                keepingSession: request.cookies[SessionStore.cookieName])
        } catch let error as AccountError {
            state.values = [:]
            state.errors[error.field] = error.description
            return try shell.render(
                request, actor: actor, template: "account/password", title: "Your account", context: state.context, status: 422,
                section: "account")
        }
        return AdminShell.redirect(to: "/account", flash: "Password changed; your other sessions have ended.")
    }

    private func logout(_ request: Request, _ actor: Actor) throws -> Response {
        if let value = request.cookies[SessionStore.cookieName] { try sessions.delete(cookieValue: value) }
        return Response.redirect(to: "/login").setting(cookie: .expired(SessionStore.cookieName))
    }

    /// The login form. Before a session exists, CSRF is a double-submit cookie.
    private func loginPage(_ request: Request) throws -> Response {
        let csrf = request.cookies[AdminShell.preSessionCSRFCookie] ?? RandomToken.base64URL(bytes: 24)
        let form = FormState(values: ["next": AdminShell.localPath(request.queryValue("next"))])
        return try render(request, form: form, status: 200, csrfToken: csrf)
            .setting(cookie: Cookie(name: AdminShell.preSessionCSRFCookie, value: csrf, maxAge: 3600))
    }

    private func render(_ request: Request, form: FormState, status: Int, csrfToken: String? = nil) throws -> Response {
        try shell.render(
            request, actor: nil, template: "login", title: "Sign in", context: form.context, status: status, csrfToken: csrfToken)
    }

    private func login(_ request: Request) throws -> Response {
        try AdminShell.checkCSRF(request, expected: request.cookies[AdminShell.preSessionCSRFCookie] ?? "")
        let form = FormState(fields: try request.form())
        let email = form.value("email")
        let password = form.values["password"] ?? ""
        let ip = request.remoteAddress
        var failed = FormState(values: ["email": email, "next": AdminShell.localPath(form.values["next"])])
        guard !email.isEmpty, !password.isEmpty, email.utf8.count <= 320, password.utf8.count <= 1024 else {
            failed.errors["form"] = "The e-mail or the password is not right."
            return try render(request, form: failed, status: 401)
        }
        switch try throttle.attempt(email: email, ip: ip) {
        case .locked(let until):
            let minutes = max(1, Int((until.timeIntervalSinceNow / 60).rounded(.up)))
            failed.errors["form"] = "Too many failed sign-ins. Try again in \(minutes) minute\(minutes == 1 ? "" : "s")."
            return try render(request, form: failed, status: 429)
        case .wait(let seconds):
            failed.errors["form"] = "Several failed sign-ins: wait \(seconds) second\(seconds == 1 ? "" : "s") before the next try."
            var response = try render(request, form: failed, status: 429)
            response.setHeader("Retry-After", String(seconds))
            return response
        case .allowed:
            break
        }
        guard let userID = try users.authenticate(email: email, password: password) else {
            try throttle.failed(email: email, ip: ip)
            failed.errors["form"] = "The e-mail or the password is not right."
            return try render(request, form: failed, status: 401)
        }
        try throttle.succeeded(email: email, ip: ip)
        let session = try sessions.create(userID: userID, ip: ip, userAgent: request.header("user-agent") ?? "")
        return Response.redirect(to: AdminShell.localPath(form.values["next"]))
            .setting(cookie: Cookie(name: SessionStore.cookieName, value: session.cookieValue))
            .setting(cookie: .expired(AdminShell.preSessionCSRFCookie))
    }
}
