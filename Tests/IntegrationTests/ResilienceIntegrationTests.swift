import Foundation
import Glibc
import HTTPClient
import Testing
import WaymarkTesting

/// Stopping PostgreSQL and killing the responder under the real nginx. These change the
/// shared stack, so `make test` runs tests one at a time (`--no-parallel`).
@Suite(.needsStack, .timeLimit(.minutes(5))) struct ResilienceIntegrationTests {
    let https = TestHTTP()

    @Test func healthzIs503WhilePostgreSQLIsDownAndRecovers() throws {
        #expect(try https.get("/healthz").status == 200)
        #expect(try TestEnvironment.script("postgres.sh", "stop") == 0)
        defer { _ = try? TestEnvironment.script("postgres.sh", "start") }
        let down = try https.get("/healthz")
        #expect(down.status == 503)
        #expect(down.json["database"] as? String == "unavailable")
        #expect(try TestEnvironment.script("postgres.sh", "start") == 0)
        // The same responder process recovers once the database is back.
        #expect(waitUntil(seconds: 15) { (try? https.get("/healthz").status) == 200 })
    }

    @Test func aKilledResponderIsRestartedAndNginxAnswers502Meanwhile() throws {
        let pidFile = TestEnvironment.varDirectory + "/run/serve.pid"
        let pid = try #require(Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, SIGKILL) == 0)
        // While it is down nginx answers at once (502), it never hangs.
        let during = try https.send("GET", "/api/v1/anything", timeout: 5)
        #expect([502, 404].contains(during.status))
        if during.status == 502 {
            #expect((during.json["error"] as? [String: Any])?["code"] as? String == "unavailable")
        }
        // The supervisor starts a new responder.
        #expect(waitUntil(seconds: 20) { (try? https.get("/healthz").status) == 200 })
        let newPID = Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        #expect(newPID != nil && newPID != pid)
    }
}
