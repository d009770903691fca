import Accounts
import Postgres
import WaymarkCore

extension TestBrowser {
    /// A new user of `role` (e-mail `<prefix>-<role>-<unique>@example.test`), signed in through
    /// the login form.
    public static func signedIn(_ role: Role, prefix: String, database: PostgresPool) throws -> (browser: TestBrowser, email: String) {
        let email = "\(prefix)-\(role.rawValue)-\(uniqueSuffix())@example.test"
        try UserStore(database: database).create(email: email, password: "correct-horse-42", role: role)
        let browser = TestBrowser()
        try browser.login(email, "correct-horse-42")
        return (browser, email)
    }
}
