import Foundation
import HTTPClient

/// A cookie-keeping client that behaves like a browser on the admin pages: it signs in
/// through the login form and sends each page's CSRF token back with its forms.
public final class TestBrowser: @unchecked Sendable {
    // Used by one test at a time; not shared between threads.
    public var cookies: [String: String] = [:]
    public private(set) var lastCSRF = ""
    public let http = TestHTTP()

    public init() {}

    @discardableResult
    public func get(_ path: String) throws -> HTTPResponse {
        let response = try http.send("GET", path, headers: cookieHeader())
        absorb(response)
        return response
    }

    /// Posts a form; adds the last page's CSRF token unless `csrf` says otherwise.
    @discardableResult
    public func post(_ path: String, _ fields: [(String, String)], csrf: String? = nil) throws -> HTTPResponse {
        var all = fields
        let token = csrf ?? lastCSRF
        if !token.isEmpty { all.append(("csrf_token", token)) }
        let response = try http.postForm(path, all, headers: cookieHeader())
        absorb(response)
        return response
    }

    /// Posts a multipart form with one file, and the last page's CSRF token.
    @discardableResult
    public func upload(_ path: String, file: (field: String, name: String, data: [UInt8]), fields: [(String, String)] = []) throws
        -> HTTPResponse
    {
        let boundary = "waymark-test-\(uniqueSuffix())"
        var body: [UInt8] = []
        for (name, value) in fields + [("csrf_token", lastCSRF)] {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        let head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\n"
        body += Array((head + "Content-Type: text/csv\r\n\r\n").utf8)
        body += file.data + Array("\r\n--\(boundary)--\r\n".utf8)
        let response = try http.send(
            "POST", path, headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")] + cookieHeader(), body: body)
        absorb(response)
        return response
    }

    /// Signs in through the login page; returns the login POST's answer.
    @discardableResult
    public func login(_ email: String, _ password: String) throws -> HTTPResponse {
        try get("/login")
        return try post("/login", [("email", email), ("password", password), ("next", "/")])
    }

    public func cookieHeader() -> [(String, String)] {
        cookies.isEmpty ? [] : [("Cookie", cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))]
    }

    func absorb(_ response: HTTPResponse) {
        for header in response.headers("set-cookie") {
            let pair = header.split(separator: ";", maxSplits: 1).first ?? ""
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<eq])
            let value = String(pair[pair.index(after: eq)...])
            if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        if let range = response.text.range(of: #"name="csrf_token" value="([^"]*)""#, options: .regularExpression) {
            let match = response.text[range]
            lastCSRF = String(match.dropFirst(#"name="csrf_token" value=""#.count).dropLast())
        }
    }
}

/// A unique suffix for names and e-mails made by a test.
public func uniqueSuffix() -> String {
    String(UInt64.random(in: 0...UInt64.max), radix: 36)
}
