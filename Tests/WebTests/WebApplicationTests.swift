import FastCGI
import Foundation
import Logging
import Synchronization
import Testing
import Web

@Suite struct WebApplicationTests {
    let app: WebApplication = {
        let router = Router()
        router.get("/ok") { _ in .text("ok") }
        router.get("/api/v1/fail") { _ in throw HTTPError.validation(["name": "is required"]) }
        router.get("/boom") { _ in
            struct Secret: Error { let sql = "SELECT password FROM users" }
            throw Secret()
        }
        router.get("/api/v1/boom") { _ in
            struct Secret: Error {}
            throw Secret()
        }
        // A redirect that waits for a write; `stored=0` makes the write fail.
        router.get("/api/v1/wait") { request in
            let stored = request.queryValue("stored") != "0"
            return Response(status: 302, headers: [("Location", "https://offer.example/")])
                .waiting(for: { done in DispatchQueue.global().async { done(stored) } }, failure: .unavailable("not stored"))
        }
        return WebApplication(router: router, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }()

    func call(_ method: String, _ path: String) -> Response {
        var request = Request(method: method, path: path)
        return app.respond(to: &request)
    }

    @Test func notFoundIsJSONUnderAPIAndHTMLElsewhere() throws {
        let api = call("GET", "/api/v1/missing")
        #expect(api.status == 404)
        #expect(api.header("Content-Type") == "application/json")
        let object = try JSONSerialization.jsonObject(with: Data(api.body)) as? [String: Any]
        #expect((object?["error"] as? [String: Any])?["code"] as? String == "not_found")
        let page = call("GET", "/missing")
        #expect(page.status == 404)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
    }

    @Test func wrongMethodIs405WithAllow() {
        let response = call("POST", "/ok")
        #expect(response.status == 405)
        #expect(response.header("Allow") == "GET")
    }

    @Test func validationErrorsCarryTheirFields() throws {
        let response = call("GET", "/api/v1/fail")
        #expect(response.status == 422)
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        let error = object?["error"] as? [String: Any]
        #expect((error?["fields"] as? [String: String]) == ["name": "is required"])
    }

    @Test func unexpectedErrorsAre500WithoutDetails() {
        let page = call("GET", "/boom")
        #expect(page.status == 500)
        let text = String(decoding: page.body, as: UTF8.self)
        #expect(!text.contains("SELECT"))
        #expect(!text.contains("Secret"))
        #expect(call("GET", "/api/v1/boom").status == 500)
    }

    @Test func oversizedBodiesAre413() {
        var request = Request(fastCGI: FastCGIRequest(params: ["REQUEST_METHOD": "POST", "REQUEST_URI": "/ok"], bodyTooLarge: true))
        #expect(app.respond(to: &request).status == 413)
    }

    @Test func viewsEscapeHTML() throws {
        let views = try Views(templates: ["page": "<p>{{name}}</p>"])
        #expect(
            try views.render("page", ["name": "<script>alert('x')</script>"]) == "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>")
        #expect(htmlEscape("a&b\"") == "a&amp;b&quot;")
    }

    @Test func cookiesDefaultToSafeAttributes() {
        #expect(Cookie(name: "s", value: "v").headerValue == "s=v; Path=/; HttpOnly; Secure; SameSite=Lax")
    }

    @Test func anAnswerWaitingForAWriteIsItsErrorWhenTheWriteFails() throws {
        #expect(call("GET", "/api/v1/wait").status == 302)
        #expect(call("GET", "/api/v1/wait").pendingWrite == nil)
        var request = Request(method: "GET", path: "/api/v1/wait", query: "stored=0")
        let failed = app.respond(to: &request)
        #expect(failed.status == 503)
        let object = try JSONSerialization.jsonObject(with: Data(failed.body)) as? [String: Any]
        #expect((object?["error"] as? [String: Any])?["code"] as? String == "unavailable")
    }

    @Test func overFastCGITheWaitingAnswerIsDeferredWithItsErrorMadeOnFailure() {
        let params = ["REQUEST_METHOD": "GET", "REQUEST_URI": "/api/v1/wait?stored=0", "QUERY_STRING": "stored=0"]
        let answer = app.handle(FastCGIRequest(params: params))
        #expect(answer.status == 302)
        #expect(answer.deferral?.failure().status == 503)
        let outcome = DispatchSemaphore(value: 0)
        let stored = Mutex<Bool?>(nil)
        answer.deferral?.start { succeeded in
            stored.withLock { $0 = succeeded }
            outcome.signal()
        }
        outcome.wait()
        #expect(stored.withLock { $0 } == false)
        #expect(app.handle(FastCGIRequest(params: ["REQUEST_METHOD": "GET", "REQUEST_URI": "/ok"])).deferral == nil)
    }
}
