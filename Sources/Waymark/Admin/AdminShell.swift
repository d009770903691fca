import Accounts
import Conversions
import FastCGI
import Foundation
import WaymarkCore
import Web

/// The admin shell: who is signed in, CSRF, flash messages, and one layout for every page.
/// Every page handler is wrapped by `page`, every API handler by `api`.
public struct AdminShell: Sendable {
    public static let flashCookie = "wm_flash"
    public static let preSessionCSRFCookie = "wm_csrf"
    /// The shell's workspace filter: which workspace's objects the lists show ("" = all visible).
    public static let workspaceFilterCookie = "wm_workspace"

    let views: Views
    let sessions: SessionStore
    let tokens: APITokenStore
    let workspaces: WorkspaceStore

    /// The workspace chosen in the shell's filter, if the actor may see it (nil = all).
    public func workspaceFilter(_ request: Request, _ actor: Actor) -> Int64? {
        guard let id = request.cookies[AdminShell.workspaceFilterCookie].flatMap({ Int64($0) }), actor.canSee(workspace: id) else {
            return nil
        }
        return id
    }

    /// `POST /workspace-filter`: remembers the choice and goes back to the page it came from.
    func registerFilter(on router: Router) {
        router.post(
            "/workspace-filter",
            page { request, actor in
                let form = FormState(fields: try request.form())
                let chosen = Int64(form.value("workspace_id")).flatMap { actor.canSee(workspace: $0) ? $0 : nil }
                return Response.redirect(to: AdminShell.localPath(form.value("back"))).setting(
                    cookie: Cookie(
                        name: AdminShell.workspaceFilterCookie, value: chosen.map(String.init) ?? "",
                        maxAge: chosen == nil ? 0 : 365 * 24 * 3600))
            })
    }

    /// A page that needs a signed-in user. GETs without a session go to the login page; a POST
    /// must carry the session's CSRF token or it answers 403 and changes nothing.
    public func page(_ handler: @escaping @Sendable (Request, Actor) throws -> Response) -> Handler {
        { request in
            guard let value = request.cookies[SessionStore.cookieName], let actor = try sessions.actor(cookieValue: value) else {
                if request.method == "GET" || request.method == "HEAD" {
                    return .redirect(
                        to: "/login?next="
                            + URLEncoding.encode(request.rawQuery.isEmpty ? request.path : request.path + "?" + request.rawQuery),
                        status: 303)
                }
                throw HTTPError.forbidden("your session has ended: sign in again")
            }
            if request.method != "GET" && request.method != "HEAD" {
                try AdminShell.checkCSRF(request, expected: actor.csrfToken ?? "")
            }
            return try handler(request, actor)
        }
    }

    /// An API call authenticated by `Authorization: Bearer <token>`.
    public func api(_ handler: @escaping @Sendable (Request, Actor) throws -> Response) -> Handler {
        { request in
            guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else {
                throw HTTPError(
                    401, code: "unauthorized", message: "send an API token as Authorization: Bearer <token>",
                    headers: [("WWW-Authenticate", "Bearer")])
            }
            let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            guard let actor = try tokens.actor(token: token) else {
                throw HTTPError(
                    401, code: "unauthorized", message: "the API token is not valid (revoked, or its user is disabled)",
                    headers: [("WWW-Authenticate", "Bearer error=\"invalid_token\"")])
            }
            return try handler(request, actor)
        }
    }

    static func checkCSRF(_ request: Request, expected: String) throws(HTTPError) {
        var given = request.header("x-csrf-token")
        if given == nil, let fields = try? request.form() {
            given = fields.first { $0.0 == "csrf_token" }?.1
        }
        guard !expected.isEmpty, let given, constantTimeEqual(Array(given.utf8), Array(expected.utf8)) else {
            throw HTTPError(403, code: "csrf", message: "the form has expired or did not come from Waymark: reload the page and try again")
        }
    }

    /// Renders `template` inside the layout.
    public func render(
        _ request: Request, actor: Actor?, template: String, title: String, context: [String: Any] = [:], status: Int = 200,
        section: String? = nil, csrfToken: String? = nil
    ) throws -> Response {
        var context = context
        // Signed in: the session's token; on the login page: the pre-session cookie's.
        let csrf = actor?.csrfToken ?? csrfToken ?? request.cookies[AdminShell.preSessionCSRFCookie] ?? ""
        context["csrf_token"] = csrf
        var layout: [String: Any] = ["title": title, "csrf_token": csrf]
        // Mustache treats an Optional in Any as present, so absent values are left out.
        if let actor {
            let who: [String: Any] = [
                "email": actor.email, "role": actor.role.rawValue, "is_owner": actor.canManageUsers,
                "is_admin": actor.seesEverything, "can_write": actor.canWrite,
            ]
            context["actor"] = who
            layout["actor"] = who
            layout["nav_current"] = AdminShell.navigationCurrent(path: request.path, section: section ?? "")
            let selected = workspaceFilter(request, actor)
            layout["workspace_options"] = try workspaces.list(for: actor).map {
                ["id": $0.id, "name": $0.name, "selected": $0.id == selected] as [String: Any]
            }
            layout["back"] = request.path
        }
        layout["content"] = try views.render(template, context)
        let flash = request.cookies[AdminShell.flashCookie].map { URLEncoding.decode($0) } ?? ""
        if !flash.isEmpty { layout["flash"] = flash }
        var response = Response.html(try views.render("layout", layout), status: status)
        response.setHeader("Cache-Control", "no-store")
        if !flash.isEmpty { response = response.setting(cookie: .expired(AdminShell.flashCookie)) }
        return response
    }

    /// `path` when it stays on this site, else `/`: a redirect target taken from a form or a
    /// query must not send the user elsewhere.
    /// A path on this site to go to after a form, else `/`. Only printable ASCII counts: a
    /// control byte or space (`/\r/evil.example`) could be dropped on the way out and leave `//`.
    static func localPath(_ path: String?) -> String {
        guard let path, path.hasPrefix("/"), !path.hasPrefix("//"), path.utf8.count <= 2000,
            path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") })
        else { return "/" }
        return path
    }

    /// A redirect after a successful form, with a message for the next page.
    public static func redirect(to location: String, flash: String) -> Response {
        Response.redirect(to: location).setting(cookie: Cookie(name: flashCookie, value: URLEncoding.encode(flash), maxAge: 60))
    }

    /// Which entry of the navigation (templates/layout.mustache, grouped by task) is the current
    /// page's, with its group: `["campaigns": true, "tracking": true]`, read by the layout as
    /// `{{#nav_current.campaigns}}`. The entry is the one whose path the request's path is or
    /// starts with (the longest), else the section the route names (`/fx` is Spend's, `/clicks/…`
    /// Conversions'); a section without an entry (`dashboard`, `account`) is marked by itself.
    static func navigationCurrent(path: String, section: String) -> [String: Bool] {
        let byPath = navigationEntries.filter { path == $0.path || path.hasPrefix($0.path + "/") }
            .max { $0.path.utf8.count < $1.path.utf8.count }
        let key = byPath?.key ?? section
        guard !key.isEmpty else { return [:] }
        guard let entry = navigationEntries.first(where: { $0.key == key }) else { return [key: true] }
        // Not a literal: Reports and Status are their own groups, and a literal's duplicate key traps.
        var current = [entry.key: true]
        current[entry.group] = true
        return current
    }

    /// The navigation's entries, each with its group and path; their labels, order and who sees
    /// them are the layout's.
    struct NavigationEntry: Sendable {
        let key: String
        let group: String
        let path: String

        init(_ key: String, _ group: String, _ path: String) {
            self.key = key
            self.group = group
            self.path = path
        }
    }

    static let navigationEntries: [NavigationEntry] = [
        NavigationEntry("sources", "tracking", "/traffic-sources"), NavigationEntry("campaigns", "tracking", "/campaigns"),
        NavigationEntry("offers", "tracking", "/offers"), NavigationEntry("landers", "tracking", "/landers"),
        NavigationEntry("flows", "tracking", "/flows"),
        NavigationEntry("conversions", "data", "/conversions"), NavigationEntry("spend", "data", "/spend"),
        NavigationEntry("export", "data", "/export"),
        NavigationEntry("reports", "reports", "/reports"),
        NavigationEntry("workspaces", "settings", "/workspaces"), NavigationEntry("users", "settings", "/users"),
        NavigationEntry("tokens", "settings", "/tokens"), NavigationEntry("webhooks", "settings", "/webhooks"),
        NavigationEntry("providers", "settings", "/settings/providers"), NavigationEntry("retention", "settings", "/settings/retention"),
        NavigationEntry("audit", "settings", "/audit"), NavigationEntry("settings_index", "settings", "/settings"),
        NavigationEntry("status", "status", "/status"),
    ]
}

/// A form's typed values and its errors beside their fields, as the templates read them
/// (`{{values.name}}`, `{{#errors.name}}…{{/errors.name}}`).
public struct FormState: Sendable {
    public var values: [String: String]
    public var errors: [String: String]

    public init(values: [String: String] = [:], errors: [String: String] = [:]) {
        self.values = values
        self.errors = errors
    }

    public init(fields: [(String, String)]) {
        var values: [String: String] = [:]
        for (name, value) in fields where values[name] == nil { values[name] = value }
        self.values = values
        self.errors = [:]
    }

    public func value(_ name: String) -> String { values[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }

    public var context: [String: Any] { ["values": values, "errors": errors, "has_errors": !errors.isEmpty] }
}
