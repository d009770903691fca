import Testing
import Web

@Suite struct RouterTests {
    let router: Router = {
        let r = Router()
        r.get("/api/v1/campaigns") { _ in .text("list") }
        r.get("/api/v1/campaigns/{id}") { req in .text("get " + req.parameters["id"]!) }
        r.patch("/api/v1/campaigns/{id}") { _ in .text("patch") }
        r.get("/api/v1/campaigns/new") { _ in .text("new") }
        r.get("/c/{key}") { req in .text("click " + req.parameters["key"]!) }
        return r
    }()

    func body(_ method: String, _ path: String) -> String? {
        guard case .found(let handler, let params) = router.match(method: method, path: path) else { return nil }
        var request = Request(method: method, path: path)
        request.parameters = params
        return (try? handler(request)).map { String(decoding: $0.body, as: UTF8.self) }
    }

    @Test func matchesLiteralsBeforeParameters() {
        #expect(body("GET", "/api/v1/campaigns") == "list")
        #expect(body("GET", "/api/v1/campaigns/42") == "get 42")
        #expect(body("GET", "/api/v1/campaigns/new") == "new")
        #expect(body("GET", "/c/AbC-9_x") == "click AbC-9_x")
        #expect(body("GET", "/api/v1/campaigns/42/") == "get 42")
    }

    @Test func distinguishesNotFoundFromWrongMethod() {
        guard case .notFound = router.match(method: "GET", path: "/api/v2/x") else {
            Issue.record("expected notFound")
            return
        }
        guard case .methodNotAllowed(let allowed) = router.match(method: "DELETE", path: "/api/v1/campaigns/1") else {
            Issue.record("expected methodNotAllowed")
            return
        }
        #expect(allowed == ["GET", "PATCH"])
    }

    @Test func headUsesTheGetHandler() {
        #expect(body("HEAD", "/c/k") == "click k")
    }
}
