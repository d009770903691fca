import CoreMetrics
import FastCGI
import Foundation
import Logging
import Threads

/// Turns FastCGI requests into router calls: builds the `Request`, finds the route, turns
/// thrown errors into answers (JSON under `/api/` and on tracking paths, a plain page
/// elsewhere; a 500 logs its error with the request id and shows neither stack nor SQL), and
/// logs one line per request.
public final class WebApplication: Sendable {
    public let router: Router
    private let logger: Logger
    /// Paths whose errors are JSON.
    private let jsonPrefixes: [String]
    /// Route classes by path prefix, first match wins; any other path is `admin`.
    private let routeClasses: [(prefix: String, name: String)]
    /// `waymark_http_request_duration_seconds{route}`, one per class, made once.
    private let durations: [String: CoreMetrics.Timer]

    public init(
        router: Router, logger: Logger, jsonPrefixes: [String] = ["/api/", "/postback", "/healthz", "/oauth/"],
        routeClasses: [(prefix: String, name: String)] = []
    ) {
        self.router = router
        self.logger = logger
        self.jsonPrefixes = jsonPrefixes
        self.routeClasses = routeClasses
        var durations: [String: CoreMetrics.Timer] = [:]
        for name in Set(routeClasses.map(\.name) + ["admin"]) {
            durations[name] = CoreMetrics.Timer(label: "waymark_http_request_duration_seconds", dimensions: [("route", name)])
        }
        self.durations = durations
    }

    public func routeClass(of path: String) -> String {
        routeClasses.first { path.hasPrefix($0.prefix) }?.name ?? "admin"
    }

    /// One request: its answer, its duration in the route's histogram, and its log line
    /// (request id, method, route, path, status, duration; JSON under WAYMARK_LOG_FORMAT=json).
    /// An answer waiting for a write leaves, and is logged, once the write is done.
    public func handle(_ fastCGI: FastCGIRequest) -> FastCGIResponse {
        let started = monotonicSeconds()
        var request = Request(fastCGI: fastCGI)
        var response = route(&request)
        if request.method == "HEAD" { response.dropBody() }
        guard let pending = response.pendingWrite else {
            finished(request, status: response.status, started: started)
            return response.fastCGI
        }
        let status = response.status
        var answer = response.fastCGI
        let failure: @Sendable () -> FastCGIResponse = { [self, request] in
            var failure = self.errorResponse(pending.failure, for: request)
            if request.method == "HEAD" { failure.dropBody() }
            return failure.fastCGI
        }
        answer.deferral = FastCGIDeferral(failure: failure) { [self, request] done in
            pending.start { stored in
                self.finished(request, status: stored ? status : pending.failure.status, started: started)
                done(stored)
            }
        }
        return answer
    }

    private func finished(_ request: Request, status: Int, started: Double) {
        let seconds = monotonicSeconds() - started
        let route = routeClass(of: request.path)
        durations[route]?.recordNanoseconds(Int64(seconds * 1e9))
        logger.info(
            "\(request.method) \(request.path) \(status)",
            metadata: [
                "request_id": "\(request.requestID)", "method": "\(request.method)", "route": "\(route)",
                "path": "\(request.path)", "status": "\(status)", "duration_ms": "\(String(format: "%.2f", seconds * 1000))",
            ])
    }

    /// Routes one request and waits for a write its answer waits for: used by tests that call
    /// the app without a socket.
    public func respond(to request: inout Request) -> Response {
        let response = route(&request)
        guard let pending = response.pendingWrite else { return response }
        guard waitForOutcome(pending.start) else { return errorResponse(pending.failure, for: request) }
        var answer = response
        answer.pendingWrite = nil
        return answer
    }

    private func route(_ request: inout Request) -> Response {
        if request.bodyTooLarge {
            return errorResponse(.payloadTooLarge(), for: request)
        }
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            return errorResponse(.notFound("no page at \(request.path)"), for: request)
        case .methodNotAllowed(let allowed):
            return errorResponse(.methodNotAllowed(allowed), for: request)
        case .found(let handler, let parameters):
            request.parameters = parameters
            do {
                return try handler(request)
            } catch let error as HTTPError {
                return errorResponse(error, for: request)
            } catch {
                logger.error(
                    "unhandled error: \(String(reflecting: error))",
                    metadata: ["request_id": "\(request.requestID)", "path": "\(request.path)"])
                return errorResponse(
                    HTTPError(500, code: "internal", message: "internal error (request \(request.requestID))"), for: request)
            }
        }
    }

    public func wantsJSON(_ request: Request) -> Bool {
        jsonPrefixes.contains { request.path.hasPrefix($0) } || request.contentType == "application/json"
            || (request.header("accept")?.hasPrefix("application/json") ?? false)
    }

    public func errorResponse(_ error: HTTPError, for request: Request) -> Response {
        var response: Response
        if wantsJSON(request) {
            var body: [String: Any] = ["code": error.code, "message": error.message]
            if !error.fields.isEmpty { body["fields"] = error.fields }
            if let field = error.field { body["field"] = field }
            response = .jsonObject(["error": body], status: error.status)
        } else {
            response = .html(ErrorPage.html(status: error.status, message: error.message), status: error.status)
        }
        for (name, value) in error.headers { response.headers.append((name, value)) }
        return response
    }
}

/// The small page for HTML errors (no template, so it works when templates do not).
public enum ErrorPage {
    public static func html(status: Int, message: String) -> String {
        let title = "\(status) \(FastCGIResponse.reason(status))"
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(htmlEscape(title))</title><link rel="stylesheet" href="/static/waymark.css"></head>
            <body class="error-page"><main><h1>\(htmlEscape(title))</h1><p>\(htmlEscape(message))</p>
            <p><a href="/">Waymark</a></p></main></body></html>

            """
    }
}
