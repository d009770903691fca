import Foundation
import HTTPClient
import Logging
import Testing
import Waymark
import Web

/// The application in the test process: the real router, filters and handlers on the test
/// instance's database, with no nginx and no FastCGI in between, so a route test takes
/// milliseconds. It is built once from the same environment the stack's responder gets
/// (scripts/env.sh), with its own click spool so it never replays the responder's.
public enum TestApp {
    private static let built: Result<WaymarkApp, any Error> = Result {
        var configuration = Configuration()
        configuration.spoolDirectory = configuration.varDirectory + "/spool-in-process"
        var logger = Logger(label: "waymark.test-app")
        logger.logLevel = .warning
        let app = try WaymarkApp(configuration: configuration, logger: logger)
        try app.startBackgroundWork()
        return app
    }

    public static var app: WaymarkApp {
        get throws { try built.get() }
    }

    /// Sends one request through the application as nginx would pass it: HTTPS, the client at
    /// 127.0.0.1, the host the test instance's URLs name. A HEAD answer loses its body, as
    /// `WebApplication.handle` does.
    public static func send(_ method: String, _ target: String, headers: [(String, String)], body: [UInt8]) throws -> HTTPResponse {
        let app = try self.app
        let (path, query) = split(target)
        var named: [String: String] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            named[key] = named[key].map { $0 + (key == "cookie" ? "; " : ", ") + value } ?? value
        }
        let host = URLComponents(string: app.configuration.publicURL).map { "\($0.host ?? "localhost"):\($0.port ?? 443)" }
        named["host"] = named["host"] ?? host ?? "localhost"
        var request = Request(method: method, path: path, query: query, headers: named, body: body)
        request.scheme = "https"
        request.host = named["host"] ?? "localhost"
        request.remoteAddress = "127.0.0.1"
        request.bodyTooLarge = body.count > app.configuration.maxBodyBytes
        var response = app.web.respond(to: &request)
        response.body = method == "HEAD" ? [] : response.collected()
        return HTTPResponse(status: response.status, headers: response.headers, body: response.body)
    }

    /// `/a/b?x=1` → (`/a/b`, `x=1`).
    static func split(_ target: String) -> (String, String) {
        guard let mark = target.firstIndex(of: "?") else { return (target, "") }
        return (String(target[..<mark]), String(target[target.index(after: mark)...]))
    }
}

/// How a `TestHTTP` made without an explicit base reaches the app: through nginx (the
/// default) or in this process (`@Suite(.inProcess)`).
public enum TestTransport: Sendable {
    case network
    case inProcess

    @TaskLocal public static var current: TestTransport = .network
}

/// Runs every test of a suite (or one test) against the in-process app: every `TestHTTP()`
/// and `TestBrowser()` it makes skips nginx. Tracking paths and anything nginx adds (TLS,
/// security headers, rate limits, body limits at the edge) stay in the end-to-end suites.
public struct InProcessTrait: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await TestTransport.$current.withValue(.inProcess) { try await function() }
    }
}

/// Runs a test of an `.inProcess` suite through nginx again (`.throughNginx`): for what only
/// the edge does.
public struct ThroughNginxTrait: TestTrait, TestScoping {
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await TestTransport.$current.withValue(.network) { try await function() }
    }
}

extension Trait where Self == InProcessTrait {
    /// The suite's requests go through the in-process app (`TestApp`), not nginx.
    public static var inProcess: Self { InProcessTrait() }
}

extension Trait where Self == ThroughNginxTrait {
    /// This test's requests go through nginx although its suite is `.inProcess`.
    public static var throughNginx: Self { ThroughNginxTrait() }
}

extension Trait where Self == ConditionTrait {
    /// Skips the suite with a clear message when the test instance is not running (a plain
    /// `swift test`): `make test` starts it and exports where it is.
    public static var needsStack: Self {
        .enabled(
            if: TestEnvironment.isAvailable,
            "needs the test instance (PostgreSQL, nginx, the responder): run `make test` or scripts/test.sh")
    }
}
