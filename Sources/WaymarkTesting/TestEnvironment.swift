import Foundation
import Glibc
import HTTPClient
import Postgres

/// What the integration tests talk to: the test instance started by `make test`
/// (scripts/test.sh exports these variables). Suites that need it carry `.needsStack`, so a
/// plain `swift test` skips them with a message instead of reaching `require`.
public enum TestEnvironment {
    /// The variables scripts/test.sh exports are all there.
    public static var isAvailable: Bool {
        ["WAYMARK_TEST_BASE_URL", "WAYMARK_TEST_HTTP_URL", "WAYMARK_TEST_CA", "WAYMARK_DATABASE_URL", "WAYMARK_TEST_SCRIPTS"].allSatisfy {
            !(ProcessInfo.processInfo.environment[$0] ?? "").isEmpty
        }
    }

    static func require(_ name: String) -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            fatalError("\(name) is not set: this test needs `.needsStack`; run it with `make test`")
        }
        return value
    }

    /// `https://localhost:18443`
    public static var baseURL: String { require("WAYMARK_TEST_BASE_URL") }
    /// `http://localhost:18080`
    public static var httpURL: String { require("WAYMARK_TEST_HTTP_URL") }
    /// The test instance's self-signed certificate, trusted explicitly (verification stays on).
    public static var caFile: String { require("WAYMARK_TEST_CA") }
    public static var databaseURL: String { require("WAYMARK_DATABASE_URL") }
    public static var scripts: String { require("WAYMARK_TEST_SCRIPTS") }
    public static var varDirectory: String { require("WAYMARK_VAR") }

    public static func connect() throws -> PostgresConnection {
        try PostgresConnection(conninfo: databaseURL)
    }

    /// Runs one of the project's scripts for the test instance (e.g. `postgres.sh stop`).
    @discardableResult
    public static func script(_ name: String, _ arguments: String...) throws -> Int32 {
        try runProgram(scripts + "/" + name, arguments, environment: ["WAYMARK_INSTANCE": "test"])
    }
}

/// Polls `condition` every 0.1 s for up to `seconds`; true once it holds.
public func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(100_000)
    }
    return condition()
}

/// Runs a program with extra environment variables and returns its exit status.
/// posix_spawn + waitpid: Foundation's Process can miss the exit of a script whose
/// grandchildren (a PostgreSQL server) live on.
public func runProgram(_ path: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> Int32 {
    let pid = try startProgram(path, arguments, environment: extra)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return (status >> 8) & 0xff
}

/// Runs `body` while a second `waymark worker` runs beside the stack's (on the test instance),
/// then stops it (SIGTERM) and reaps it.
public func withSecondWorker<T>(_ body: () throws -> T) throws -> T {
    let pid = try startProgram(
        FileManager.default.currentDirectoryPath + "/.build/release/waymark", ["worker"],
        environment: ["WAYMARK_VAR": TestEnvironment.varDirectory])
    defer {
        kill(pid, SIGTERM)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
    return try body()
}

/// Starts a program in the background; the caller kills and reaps it (`waitpid`).
public func startProgram(_ path: String, _ arguments: [String], environment extra: [String: String] = [:]) throws -> pid_t {
    var environment = ProcessInfo.processInfo.environment
    for (key, value) in extra { environment[key] = value }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, nil, nil, argv, envp)
    guard rc == 0 else { throw TestSetupError("cannot run \(path): \(rc)") }
    return pid
}

public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A small HTTP client for tests, over the project's libcurl layer, or straight into the
/// in-process app (`TestApp`) when made without a base inside an `.inProcess` suite.
public struct TestHTTP: Sendable {
    public var base: String
    public var headers: [(String, String)] = []
    public var transport: TestTransport

    /// No `base`: the HTTPS origin, reached as the running suite says (`TestTransport.current`).
    public init(base: String? = nil) {
        self.base = base ?? TestEnvironment.baseURL
        transport = base == nil ? TestTransport.current : .network
    }

    public func send(
        _ method: String, _ path: String, headers extra: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: Double = 30
    ) throws -> HTTPResponse {
        if transport == .inProcess { return try TestApp.send(method, path, headers: headers + extra, body: body ?? []) }
        return try HTTPClient.send(
            HTTPRequest(
                method: method, url: base + path, headers: headers + extra, body: body, timeout: timeout,
                maxResponseBytes: 64 << 20, caFile: TestEnvironment.caFile))
    }

    public func get(_ path: String, headers: [(String, String)] = []) throws -> HTTPResponse {
        try send("GET", path, headers: headers)
    }

    public func postForm(_ path: String, _ fields: [(String, String)], headers: [(String, String)] = []) throws -> HTTPResponse {
        let body = fields.map { formEncode($0.0) + "=" + formEncode($0.1) }.joined(separator: "&")
        return try send("POST", path, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers, body: Array(body.utf8))
    }

    public func postJSON(_ path: String, _ object: Any, headers: [(String, String)] = []) throws -> HTTPResponse {
        try sendJSON("POST", path, object, headers: headers)
    }

    /// A JSON body with any method (PATCH, PUT, POST).
    public func sendJSON(_ method: String, _ path: String, _ object: Any = [String: Any](), headers: [(String, String)] = []) throws
        -> HTTPResponse
    {
        let data = try JSONSerialization.data(withJSONObject: object)
        return try send(method, path, headers: [("Content-Type", "application/json")] + headers, body: Array(data))
    }

    /// The plain-HTTP tracking port as a browser reaches it (a real user agent: not a bot).
    public static func tracking() -> TestHTTP {
        var t = TestHTTP(base: TestEnvironment.httpURL)
        t.headers = [("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36")]
        return t
    }

    private func formEncode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }
}

extension HTTPResponse {
    /// The body as a JSON object (empty when it is not one).
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}
