import Foundation
import Glibc
import Web

/// Routes that exist only when `WAYMARK_TEST_ROUTES=1` (the test instance): they let the
/// integration tests see what the responder parsed, through the real nginx.
struct TestRoutes {
    func register(on router: Router) {
        // Echoes the parsed query, form or multipart body; `sleep_ms` holds the thread so
        // concurrent requests must spread over threads.
        router.add("POST", "/__test/echo", echo)
        router.add("GET", "/__test/echo", echo)
        router.get("/__test/fail") { _ in
            struct Boom: Error {}
            throw Boom()
        }
        // Every route the responder serves, for the check against the OpenAPI document.
        router.get("/__test/routes") { [router] _ in
            .jsonObject(router.routes.map { ["method": $0.method, "pattern": $0.pattern] })
        }
    }

    private func echo(_ request: Request) throws -> Response {
        if let ms = request.queryValue("sleep_ms").flatMap(Int.init), ms > 0 { usleep(UInt32(min(ms, 5000)) * 1000) }
        var out: [String: Any] = [
            "method": request.method,
            "path": request.path,
            "query": request.query.map { [$0.0, $0.1] },
            "thread": Int(pthread_self()),
            "remote_address": request.remoteAddress,
            "request_id": request.requestID,
            "body_bytes": request.body.count,
        ]
        if request.method == "POST" {
            if request.contentType == "multipart/form-data" {
                out["parts"] = try request.multipart().map {
                    [
                        "name": $0.name, "filename": $0.filename ?? NSNull(), "content_type": $0.contentType ?? NSNull(),
                        "size": $0.data.count, "text": $0.text,
                    ] as [String: Any]
                }
            } else if request.contentType == "application/json" {
                out["json"] = try request.jsonObject()
            } else {
                out["form"] = try request.form().map { [$0.0, $0.1] }
            }
        }
        return .jsonObject(out)
    }
}
