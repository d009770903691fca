import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// People, sessions, roles and workspaces through nginx and PostgreSQL.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5))) struct AccountsIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    var users: UserStore { UserStore(database: database) }
    let password = "correct-horse-42"

    func makeUser(_ role: Role, workspaces: [String] = []) throws -> (email: String, id: Int64) {
        let email = "\(role.rawValue)-\(uniqueSuffix())@example.test"
        return (email, try users.create(email: email, password: password, role: role, workspaces: workspaces))
    }

    func makeWorkspace() throws -> (name: String, id: Int64) {
        let name = "ws-\(uniqueSuffix())"
        let id: Int64 = try database.query("INSERT INTO workspaces (name) VALUES (\(name)) RETURNING id").first!.decode("id")
        return (name, id)
    }

    /// A new user of `role`, signed in through the login page.
    func signedIn(_ role: Role) throws -> (browser: TestBrowser, email: String, id: Int64) {
        let user = try makeUser(role)
        let browser = TestBrowser()
        try browser.login(user.email, password)
        return (browser, user.email, user.id)
    }

    func token(for email: String) throws -> String {
        try users.createToken(email: email, name: "test")
    }

    func api(_ token: String) -> TestHTTP {
        var http = TestHTTP()
        http.headers = [("Authorization", "Bearer " + token)]
        return http
    }

    @Test func loginSucceedsAndBothKindsOfFailureLookTheSame() throws {
        let user = try makeUser(.member)
        let browser = TestBrowser()
        let wrongPassword = try browser.login(user.email, "not-the-password")
        let wrongEmail = try browser.login("nobody-\(uniqueSuffix())@example.test", password)
        #expect(wrongPassword.status == 401 && wrongEmail.status == 401)
        #expect(wrongPassword.text.contains("The e-mail or the password is not right."))
        #expect(wrongEmail.text.contains("The e-mail or the password is not right."))
        #expect(browser.cookies[SessionStore.cookieName] == nil)

        let ok = try browser.login(user.email, password)
        #expect(ok.status == 303)
        #expect(ok.header("Location") == "/")
        let cookie = try #require(ok.headers("set-cookie").first { $0.hasPrefix("wm_session=") })
        #expect(cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax"))
        let first = browser.cookies[SessionStore.cookieName]
        #expect(try browser.get("/").text.contains(user.email))
        // A new login gets a new session id.
        try browser.login(user.email, password)
        #expect(browser.cookies[SessionStore.cookieName] != first)
        // The pages need a session.
        let anonymous = try TestHTTP().get("/workspaces")
        #expect(anonymous.status == 303)
        #expect(anonymous.header("Location") == "/login?next=%2Fworkspaces")
    }

    @Test func repeatedFailuresLockTheAccount() throws {
        let user = try makeUser(.viewer)
        defer { _ = try? database.query("DELETE FROM login_throttle WHERE key LIKE 'ip:%'") }
        let browser = TestBrowser()
        for i in 0..<8 {
            #expect(try browser.login(user.email, "wrong-password").status == 401)
            if i == 2 {
                // After 3 failures the next try at once must wait: a 429 at once (no thread sleeps).
                let soon = try browser.login(user.email, "wrong-password")
                #expect(soon.status == 429 && soon.header("Retry-After") != nil && soon.text.contains("wait"))
            }
            try database.query(
                """
                UPDATE login_throttle SET last_failure_at = now() - interval '1 minute' WHERE key LIKE
                \("%" + user.email.lowercased() + "%")
                """
            )
        }
        // Locked now: even the right password is refused, with a clear message.
        let locked = try browser.login(user.email, password)
        #expect(locked.status == 429)
        #expect(locked.text.contains("Too many failed sign-ins"))
        // The lock is per account: another account still signs in.
        let other = try makeUser(.viewer)
        #expect(try TestBrowser().login(other.email, password).status == 303)
    }

    @Test func sessionsExpireWhenIdleAndAtTheirEnd() throws {
        let user = try signedIn(.member)
        let browser = user.browser
        #expect(try browser.get("/").status == 200)
        try database.query("UPDATE sessions SET last_seen_at = now() - interval '9 hours' WHERE user_id = \(user.id)")
        #expect(try browser.get("/").status == 303)
        try browser.login(user.email, password)
        #expect(try browser.get("/").status == 200)
        try database.query("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE user_id = \(user.id)")
        #expect(try browser.get("/").header("Location")?.hasPrefix("/login") == true)
    }

    @Test func formsWithoutTheCSRFTokenAreRefusedAndChangeNothing() throws {
        let owner = try signedIn(.owner)
        let browser = owner.browser
        try browser.get("/workspaces/new")
        let name = "csrf-\(uniqueSuffix())"
        let missing = try browser.http.postForm(
            "/workspaces", [("name", name), ("timezone", "UTC"), ("currency", "EUR")], headers: browser.cookieHeader())
        #expect(missing.status == 403)
        #expect(try browser.post("/workspaces", [("name", name), ("timezone", "UTC"), ("currency", "EUR")], csrf: "forged").status == 403)
        let count: Int = try database.query("SELECT count(*)::int AS n FROM workspaces WHERE name = \(name)").first!.decode("n")
        #expect(count == 0)
        // With the page's token it goes through.
        try browser.get("/workspaces/new")
        let created = try browser.post("/workspaces", [("name", name), ("timezone", "Europe/Berlin"), ("currency", "EUR")])
        #expect(created.status == 303)
        #expect(try browser.get("/workspaces").text.contains(name))
    }

    @Test func formErrorsKeepTheTypedValues() throws {
        let admin = try signedIn(.admin)
        let browser = admin.browser
        try browser.get("/workspaces/new")
        let page = try browser.post("/workspaces", [("name", "Typed <name>"), ("timezone", "Mars/Olympus"), ("currency", "EUR")])
        #expect(page.status == 422)
        #expect(page.text.contains("Time zone is not a time zone name"))
        #expect(page.text.contains("value=\"Typed &lt;name&gt;\""))
    }

    @Test func everyRoleAgainstPagesAndAPI() throws {
        let ws = try makeWorkspace()
        let owner = try makeUser(.owner), admin = try makeUser(.admin)
        let member = try makeUser(.member, workspaces: [ws.name]), viewer = try makeUser(.viewer, workspaces: [ws.name])
        func status(_ email: String, _ path: String) throws -> Int {
            let b = TestBrowser()
            try b.login(email, password)
            return try b.get(path).status
        }
        let expectations: [(String, [Int])] = [  // owner, admin, member, viewer
            ("/users", [200, 403, 403, 403]),
            ("/users/new", [200, 403, 403, 403]),
            ("/workspaces/new", [200, 200, 403, 403]),
            ("/audit", [200, 200, 403, 403]),
            ("/workspaces", [200, 200, 200, 200]),
            ("/workspaces/\(ws.id)", [200, 200, 200, 200]),
            ("/tokens", [200, 200, 200, 200]),
        ]
        for (path, statuses) in expectations {
            for (user, expected) in zip([owner, admin, member, viewer], statuses) {
                #expect(try status(user.email, path) == expected, "\(user.email) \(path)")
            }
        }
        // Writes: only admins and owners create or change workspaces; a viewer changes nothing.
        let viewerBrowser = TestBrowser()
        try viewerBrowser.login(viewer.email, password)
        try viewerBrowser.get("/workspaces/\(ws.id)")
        #expect(try viewerBrowser.post("/workspaces/\(ws.id)", [("name", "renamed")]).status == 403)
        for (user, expected) in zip([owner, admin, member, viewer], [201, 201, 403, 403]) {
            let response = try api(token(for: user.email)).postJSON(
                "/api/v1/workspaces", ["name": "api-\(uniqueSuffix())", "currency": "EUR", "timezone": "UTC"])
            #expect(response.status == expected, "\(user.email) POST /api/v1/workspaces")
        }
        #expect(
            try api(token(for: viewer.email)).send(
                "PATCH", "/api/v1/workspaces/\(ws.id)", headers: [("Content-Type", "application/json")], body: Array(#"{"name":"x"}"#.utf8)
            ).status == 403)
        #expect(try TestHTTP().get("/api/v1/workspaces").status == 401)
        #expect(try api("wm_not-a-real-token").get("/api/v1/workspaces").status == 401)
    }

    @Test func usersOfTwoWorkspacesCannotReachEachOther() throws {
        let a = try makeWorkspace(), b = try makeWorkspace()
        let alice = try makeUser(.member, workspaces: [a.name]), bob = try makeUser(.member, workspaces: [b.name])
        let aliceBrowser = TestBrowser()
        try aliceBrowser.login(alice.email, password)
        #expect(try aliceBrowser.get("/workspaces/\(a.id)").status == 200)
        #expect(try aliceBrowser.get("/workspaces/\(b.id)").status == 404)
        #expect(try aliceBrowser.post("/workspaces/\(b.id)", [("name", "hijacked")]).status == 404)
        let list = try aliceBrowser.get("/workspaces").text
        #expect(list.contains(a.name) && !list.contains(b.name))

        let bobAPI = api(try token(for: bob.email))
        #expect(try bobAPI.get("/api/v1/workspaces/\(a.id)").status == 404)
        #expect(try bobAPI.get("/api/v1/workspaces/\(b.id)").status == 200)
        let patch = try bobAPI.send(
            "PATCH", "/api/v1/workspaces/\(a.id)", headers: [("Content-Type", "application/json")],
            body: Array(#"{"name":"hijacked"}"#.utf8))
        #expect(patch.status == 404)
        let names = (try bobAPI.get("/api/v1/workspaces").json["data"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names.contains(b.name) && !names.contains(a.name))
        let stored: String = try database.query("SELECT name FROM workspaces WHERE id = \(a.id)").first!.decode("name")
        #expect(stored == a.name)
    }

    @Test func revokedTokensAndDisabledUsersStopAtOnce() throws {
        let owner = try signedIn(.owner)
        let browser = owner.browser
        try browser.get("/tokens")
        let page = try browser.post("/tokens", [("name", "script")])
        let token = try #require(page.text.range(of: #"wm_[A-Za-z0-9_-]{43}"#, options: .regularExpression).map { String(page.text[$0]) })
        #expect(try api(token).get("/api/v1/workspaces").status == 200)
        let id: Int64 = try database.query("SELECT id FROM api_tokens WHERE token_hash = \(sha256Hex(token))").first!.decode("id")
        let lastUsed = try database.query("SELECT last_used_at FROM api_tokens WHERE id = \(id)").first!["last_used_at"]
        #expect(lastUsed != nil)
        #expect(try browser.post("/tokens/\(id)/revoke", []).status == 303)
        #expect(try api(token).get("/api/v1/workspaces").status == 401)

        // Disabling a user ends their session and their tokens.
        let member = try makeUser(.member)
        let memberToken = try self.token(for: member.email)
        let memberBrowser = TestBrowser()
        try memberBrowser.login(member.email, password)
        #expect(try memberBrowser.get("/").status == 200)
        try browser.get("/users")
        #expect(try browser.post("/users/\(member.id)/disable", []).status == 303)
        #expect(try memberBrowser.get("/").status == 303)
        #expect(try api(memberToken).get("/api/v1/workspaces").status == 401)
        #expect(try TestBrowser().login(member.email, password).status == 401)
    }

    @Test func ownersAddUsersOnTheUsersPage() throws {
        let owner = try makeUser(.owner)
        let ws = try makeWorkspace()
        let browser = TestBrowser()
        try browser.login(owner.email, password)
        try browser.get("/users/new")
        let email = "new-\(uniqueSuffix())@example.test"
        let short = try browser.post("/users", [("email", email), ("password", "short"), ("role", "member"), ("workspace", ws.name)])
        #expect(short.status == 422)
        #expect(short.text.contains("at least 8 characters"))
        #expect(
            try browser.post("/users", [("email", email), ("password", password), ("role", "member"), ("workspace", ws.name)]).status == 303
        )
        let member = TestBrowser()
        #expect(try member.login(email, password).status == 303)
        #expect(try member.get("/workspaces/\(ws.id)").status == 200)
    }

    @Test func changesAreAudited() throws {
        let admin = try signedIn(.admin)
        let browser = admin.browser
        try browser.get("/workspaces/new")
        let name = "audited-\(uniqueSuffix())"
        #expect(try browser.post("/workspaces", [("name", name), ("timezone", "UTC"), ("currency", "USD")]).status == 303)
        let id: Int64 = try database.query("SELECT id FROM workspaces WHERE name = \(name)").first!.decode("id")
        let patched = try api(token(for: admin.email)).send(
            "PATCH", "/api/v1/workspaces/\(id)", headers: [("Content-Type", "application/json")], body: Array(#"{"currency":"EUR"}"#.utf8))
        #expect(patched.status == 200)
        #expect(patched.json["currency"] as? String == "EUR")
        let entries = try AuditLog.entries(database, objectType: "workspace", objectID: String(id))
        #expect(entries.map(\.action) == ["update", "create"])
        #expect(entries.allSatisfy { $0.actor == admin.email })
        #expect(entries.map(\.via) == ["token", "session"])
        #expect(entries[0].old?.contains(#""currency": "USD""#) == true || entries[0].old?.contains(#""currency":"USD""#) == true)
        #expect(entries[0].new?.contains("EUR") == true)
        let page = try browser.get("/audit?object_type=workspace&object_id=\(id)")
        #expect(page.status == 200)
        #expect(page.text.contains(admin.email))
    }

    @Test func theShellsWorkspaceFilterNarrowsTheDashboard() throws {
        let a = try makeWorkspace(), b = try makeWorkspace(), other = try makeWorkspace()
        let member = try makeUser(.member, workspaces: [a.name, b.name])
        let browser = TestBrowser()
        try browser.login(member.email, password)
        let before = try browser.get("/").text
        #expect(before.contains(a.name) && before.contains(b.name) && !before.contains(other.name))
        #expect(try browser.post("/workspace-filter", [("workspace_id", String(a.id)), ("back", "/")]).status == 303)
        let after = try browser.get("/").text
        #expect(after.contains(">\(a.name)</a>") && !after.contains(">\(b.name)</a>"))
        // A workspace the member cannot see is not accepted as a filter.
        try browser.post("/workspace-filter", [("workspace_id", String(other.id)), ("back", "/")])
        #expect(browser.cookies["wm_workspace"] == nil)
    }

    @Test func theWorkspaceListPagesWithLimitAndCursor() throws {
        for _ in 0..<3 { _ = try makeWorkspace() }
        let client = api(try token(for: try makeUser(.admin).email))
        var seen: [Int] = []
        var cursor: String? = nil
        repeat {
            let response = try client.get("/api/v1/workspaces?limit=2" + (cursor.map { "&cursor=" + $0 } ?? ""))
            #expect(response.status == 200)
            let data = response.json["data"] as? [[String: Any]] ?? []
            #expect(data.count <= 2)
            seen += data.compactMap { $0["id"] as? Int }
            cursor = response.json["next_cursor"] as? String
        } while cursor != nil
        let all: Int = try database.query("SELECT count(*)::int AS n FROM workspaces").first!.decode("n")
        #expect(seen.count == all)
        #expect(Set(seen).count == all)
        #expect(try client.get("/api/v1/workspaces?limit=0").status == 400)
    }
}
