import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import Waymark
import WaymarkCore
import WaymarkTesting

/// Passwords: a user changes their own (other sessions end), an owner resets another's (shown
/// once), and `waymark user set-password`.
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(3))) struct PasswordIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)
    var users: UserStore { UserStore(database: database) }
    let password = "correct-horse-42"

    func makeUser(_ role: Role) throws -> String {
        let email = "pw-\(role.rawValue)-\(uniqueSuffix())@example.test"
        try users.create(email: email, password: password, role: role)
        return email
    }

    func signedIn(_ email: String, _ password: String) throws -> TestBrowser {
        let browser = TestBrowser()
        #expect(try browser.login(email, password).status == 303)
        return browser
    }

    func isSignedIn(_ browser: TestBrowser) throws -> Bool { try browser.get("/account").status == 200 }

    @Test func aUserChangesTheirPasswordAndTheirOtherSessionsEnd() throws {
        let email = try makeUser(.member)
        let here = try signedIn(email, password)
        let elsewhere = try signedIn(email, password)
        let page = try here.get("/account")
        #expect(page.text.contains("Change your password"))

        let wrong = try here.post(
            "/account/password",
            [("current_password", "not-it"), ("new_password", "new-horse-4242"), ("confirm_password", "new-horse-4242")])
        #expect(wrong.status == 422)
        #expect(wrong.text.contains("the current password is not right"))
        let mismatch = try here.post(
            "/account/password", [("current_password", password), ("new_password", "new-horse-4242"), ("confirm_password", "other-4242")])
        #expect(mismatch.status == 422)
        let short = try here.post(
            "/account/password", [("current_password", password), ("new_password", "short"), ("confirm_password", "short")])
        #expect(short.status == 422)
        #expect(short.text.contains("at least 8 characters"))
        let huge = String(repeating: "x", count: 5000)
        #expect(
            try here.post("/account/password", [("current_password", huge), ("new_password", huge), ("confirm_password", huge)]).status
                == 422)
        #expect(try isSignedIn(elsewhere), "nothing changed yet")
        #expect(try users.authenticate(email: email, password: password) != nil)

        let done = try here.post(
            "/account/password",
            [("current_password", password), ("new_password", "new-horse-4242"), ("confirm_password", "new-horse-4242")])
        #expect(done.status == 303)
        #expect(try isSignedIn(here), "the session that changed it stays")
        #expect(try isSignedIn(elsewhere) == false, "every other session ended")
        #expect(try users.authenticate(email: email, password: password) == nil)
        #expect(try users.authenticate(email: email, password: "new-horse-4242") != nil)
        let audited = try database.query(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'change_password' AND actor = \(email) AND new_values IS NULL")[0]["n"]
        #expect(audited == "1")
    }

    @Test func anOwnerResetsAnotherUsersPasswordShownOnce() throws {
        let ownerEmail = try makeUser(.owner)
        let owner = try signedIn(ownerEmail, password)
        let email = try makeUser(.viewer)
        let victim = try signedIn(email, password)
        let id: Int64 = try database.query("SELECT id FROM users WHERE email = \(email)")[0].decode("id")
        let list = try owner.get("/users")
        #expect(list.text.contains("/users/\(id)/reset-password"))

        let reset = try owner.post("/users/\(id)/reset-password", [])
        #expect(reset.status == 200)
        #expect(reset.header("Cache-Control") == "no-store")
        let generated = try #require(reset.text.firstMatch(of: /<code id="new-password">([A-Za-z0-9]{20})<\/code>/)?.1)
        #expect(try isSignedIn(victim) == false, "their sessions ended")
        #expect(try users.authenticate(email: email, password: password) == nil)
        #expect(try users.authenticate(email: email, password: String(generated)) != nil)
        let logged = try database.query(
            """
            SELECT count(*) AS n FROM audit_log
            WHERE action = 'reset_password' AND object_id = \(String(id)) AND new_values::text NOT LIKE \("%" + generated + "%")
            """)[0]["n"]
        #expect(logged == "1", "audited, without the password")

        // Not for a member, and not for an owner's own account.
        let member = try signedIn(try makeUser(.member), password)
        #expect(try member.post("/users/\(id)/reset-password", []).status == 403)
        let ownID: Int64 = try database.query("SELECT id FROM users WHERE email = \(ownerEmail)")[0].decode("id")
        #expect(try owner.post("/users/\(ownID)/reset-password", []).status == 409)
    }

    @Test func theCommandLineSetsAPassword() throws {
        let email = try makeUser(.admin)
        let session = try signedIn(email, password)
        let binary = FileManager.default.currentDirectoryPath + "/.build/release/waymark"
        #expect(try runProgram(binary, ["user", "set-password", "--email", email, "--password", "cli-horse-4242"]) == 0)
        #expect(try users.authenticate(email: email, password: "cli-horse-4242") != nil)
        #expect(try isSignedIn(session) == false)
        #expect(try runProgram(binary, ["user", "set-password", "--email", email, "--password", "short"]) != 0)
        #expect(
            try runProgram(
                binary, ["user", "set-password", "--email", "nobody-\(uniqueSuffix())@example.test", "--password", "long-enough-1"]) != 0)
        #expect(try users.authenticate(email: email, password: "cli-horse-4242") != nil, "a refused change leaves it")
    }
}
