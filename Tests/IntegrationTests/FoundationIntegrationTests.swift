import Foundation
import Glibc
import HTTPClient
import Synchronization
import Testing
import WaymarkTesting

/// The real nginx in front of the real responder and the real PostgreSQL (`make test`).
@Suite(.needsStack, .inProcess, .timeLimit(.minutes(5))) struct FoundationIntegrationTests {
    let https = TestHTTP()

    @Test(.throughNginx) func healthzThroughNginx() throws {
        let response = try https.get("/healthz")
        #expect(response.status == 200)
        #expect(response.json["status"] as? String == "ok")
        #expect(response.json["database"] as? String == "ok")
    }

    @Test func notFoundIsJSONUnderAPIAndHTMLElsewhere() throws {
        let api = try https.get("/api/v1/no-such-thing")
        #expect(api.status == 404)
        #expect(api.header("Content-Type") == "application/json")
        #expect((api.json["error"] as? [String: Any])?["code"] as? String == "not_found")
        let page = try https.get("/no-such-page")
        #expect(page.status == 404)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(page.text.contains("404 Not Found"))
    }

    @Test(.throughNginx) func oversizedBodiesAre413() throws {
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 21 << 20)
        let api = try https.send("POST", "/api/v1/spend", headers: [("Content-Type", "text/csv")], body: big)
        #expect(api.status == 413)
        #expect((api.json["error"] as? [String: Any])?["code"] as? String == "payload_too_large")
        let page = try https.send("POST", "/__test/echo", headers: [("Content-Type", "text/plain")], body: big)
        #expect(page.status == 413)
    }

    @Test(.throughNginx) func staticFilesComeFromNginx() throws {
        let css = try https.get("/static/waymark.css")
        #expect(css.status == 200)
        #expect(css.header("Content-Type") == "text/css")
        // nginx's static handler sets validators and caching; the responder does not.
        #expect(css.header("ETag") != nil)
        #expect(css.headers("Cache-Control").contains("public"))
        let onDisk = try String(contentsOfFile: TestEnvironment.scripts + "/../static/waymark.css", encoding: .utf8)
        #expect(css.text == onDisk)
    }

    @Test(.throughNginx) func plainHTTPServesTrackingOnlyAndRedirectsTheRest() throws {
        let http = TestHTTP(base: TestEnvironment.httpURL)
        let moved = try http.get("/api/v1/workspaces?x=1")
        #expect(moved.status == 301)
        let httpsPort = URL(string: TestEnvironment.baseURL)!.port!
        #expect(moved.header("Location") == "https://localhost:\(httpsPort)/api/v1/workspaces?x=1")
        // A tracking path reaches the responder over plain HTTP (unknown key: its 404).
        let click = try http.get("/c/no-such-key")
        #expect(click.status == 404)
    }

    @Test(.throughNginx) func securityHeadersOnPages() throws {
        let page = try https.get("/healthz")
        #expect(page.header("X-Content-Type-Options") == "nosniff")
        #expect(page.header("X-Frame-Options") == "DENY")
        #expect(page.header("Content-Security-Policy")?.contains("default-src 'self'") == true)
    }

    @Test func formPostRoundTrips() throws {
        let response = try https.postForm("/__test/echo?from=query", [("name", "Média & co"), ("tags", "a"), ("tags", "b=c")])
        #expect(response.status == 200)
        let form = response.json["form"] as? [[String]]
        #expect(form == [["name", "Média & co"], ["tags", "a"], ["tags", "b=c"]])
        #expect(response.json["query"] as? [[String]] == [["from", "query"]])
        #expect(response.json["remote_address"] as? String == "127.0.0.1")
        #expect((response.json["request_id"] as? String)?.count == 32)
    }

    @Test func multipartUploadRoundTrips() throws {
        let csv = "date,traffic_source,amount\r\n2026-11-01,\"Push, main\",12.50\r\n"
        let body =
            "--b0undary\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nfirst upload\r\n"
            + "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"spend.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            + csv + "\r\n--b0undary--\r\n"
        let response = try https.send(
            "POST", "/__test/echo", headers: [("Content-Type", "multipart/form-data; boundary=b0undary")], body: Array(body.utf8))
        #expect(response.status == 200)
        let parts = response.json["parts"] as? [[String: Any]] ?? []
        #expect(parts.count == 2)
        #expect(parts.first?["text"] as? String == "first upload")
        #expect(parts.last?["filename"] as? String == "spend.csv")
        #expect(parts.last?["text"] as? String == csv)
    }

    @Test(.throughNginx) func aThrowingHandlerAnswers500AndTheThreadGoesOn() throws {
        for _ in 0..<3 {
            let failed = try https.get("/__test/fail")
            #expect(failed.status == 500)
            #expect(failed.text.contains("internal error"))
        }
        #expect(try https.get("/healthz").status == 200)
    }

    @Test(.throughNginx) func concurrentRequestsUseManyThreads() throws {
        let count = 48
        let results = Mutex<[(Int, Int)]>([])
        let group = DispatchGroup()
        for _ in 0..<count {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let r = try? TestHTTP().get("/__test/echo?sleep_ms=300")
                results.withLock { $0.append((r?.status ?? -1, r?.json["thread"] as? Int ?? -1)) }
            }
        }
        group.wait()
        let all = results.withLock { $0 }
        #expect(all.allSatisfy { $0.0 == 200 })
        // Each request held its thread 300 ms, so they must have been spread over threads.
        #expect(Set(all.map(\.1)).count >= 16)
    }
}
