import Foundation
import HTTPClient
import Testing
import WaymarkTesting

/// `GET /api/v1/openapi.json` against the routes the responder really serves: a route with no
/// path in the document, or a documented operation with no route, fails.
@Suite(.needsStack, .timeLimit(.minutes(5))) struct OpenAPIIntegrationTests {
    /// `/api/v1/campaigns/{id}` and `/api/v1/campaigns/{campaign_id}` are one path.
    static func shape(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { $0.hasPrefix("{") ? "{}" : String($0) }.joined(separator: "/")
    }

    @Test func theDocumentAndTheRoutesAgree() throws {
        let served = try TestHTTP().get("/api/v1/openapi.json")
        #expect(served.status == 200)
        #expect(served.header("Content-Type") == "application/json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(served.body)) as? [String: Any])
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let server = (document["servers"] as? [[String: Any]])?.first?["url"] as? String ?? ""
        let prefix = server.hasSuffix("/api/v1") ? "/api/v1" : ""
        var documented = Set<String>()
        for (path, item) in document["paths"] as? [String: Any] ?? [:] {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                documented.insert(method.uppercased() + " " + OpenAPIIntegrationTests.shape(prefix + path))
            }
        }
        let routes = try #require(
            try JSONSerialization.jsonObject(with: Data(try TestHTTP().get("/__test/routes").body)) as? [[String: String]])
        let served_ = Set(
            routes.compactMap { r -> String? in
                guard let p = r["pattern"], p.hasPrefix("/api/v1/") || p == "/api/v1" else { return nil }
                return (r["method"] ?? "") + " " + OpenAPIIntegrationTests.shape(p)
            })
        #expect(served_.count > 30)
        #expect(
            served_.subtracting(documented).isEmpty,
            "routes with no operation in docs/openapi.json: \(served_.subtracting(documented).sorted())")
        #expect(documented.subtracting(served_).isEmpty, "operations with no route: \(documented.subtracting(served_).sorted())")
    }
}
