import Foundation
import Web

/// `GET /api/v1/openapi.json` (no token): the API's OpenAPI 3.1 document, `docs/openapi.json`
/// in the repository, read once at start. Tests check it against the routes and the answers.
struct OpenAPIRoutes {
    let document: [UInt8]?

    init(root: String) {
        document = FileManager.default.contents(atPath: root + "/docs/openapi.json").map { Array($0) }
    }

    func register(on router: Router) {
        router.get("/api/v1/openapi.json") { _ in
            guard let document else { throw HTTPError.notFound("docs/openapi.json is not installed with this build") }
            return Response(
                status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "public, max-age=300")], body: document)
        }
    }
}
