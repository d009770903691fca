import Accounts
import Foundation
import HTTPClient
import Postgres
import Testing
import WaymarkCore
import WaymarkTesting

/// The report grid's column chooser, remembered per user, and its comparison with the period
/// before.
@Suite(.needsStack, .timeLimit(.minutes(2))) struct ReportColumnsIntegrationTests {
    let database = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 2)

    func signedIn() throws -> TestBrowser { try TestBrowser.signedIn(.admin, prefix: "columns", database: database).browser }

    func headers(_ page: String) -> [String] {
        page.matches(of: /<th scope="col" class="num"><a href="[^"]*" title="([a-z_]+)">/).map { String($0.1) }
    }

    @Test func eachUserKeepsTheirColumnsAndTheGridComparesWithThePeriodBefore() throws {
        let one = try signedIn(), other = try signedIn()
        let all = headers(try one.get("/reports?preset=last7").text)
        #expect(all.count > 10 && all.first == "clicks")
        let saved = try one.post(
            "/reports/columns",
            [("column", "revenue"), ("column", "clicks"), ("column", "no_such_metric"), ("back", "/reports?preset=last7")])
        #expect(saved.status == 303)
        #expect(saved.header("Location") == "/reports?preset=last7")
        #expect(headers(try one.get("/reports?preset=last7").text) == ["clicks", "revenue"], "the registry's order, unknown keys dropped")
        #expect(headers(try other.get("/reports?preset=last7").text) == all, "another user's grid is unchanged")
        // An outside `back` is not followed.
        #expect(try one.post("/reports/columns", [("column", "cost"), ("back", "https://evil.example/")]).header("Location") == "/reports")

        let compared = try one.get("/reports?preset=last7&compare=previous").text
        #expect(compared.contains("its change against"))
        #expect(compared.contains(#"<small class="change" title="before: "#))
        #expect(headers(compared) == ["cost"])

        #expect(try one.post("/reports/columns", [("reset", "1")]).status == 303)
        #expect(headers(try one.get("/reports?preset=last7").text) == all)
    }
}
