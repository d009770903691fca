/// One request as nginx hands it over: the FastCGI parameters and the body.
public struct FastCGIRequest: Sendable {
    /// FastCGI parameters (`REQUEST_METHOD`, `DOCUMENT_URI`, `HTTP_*`, …), copied out of libfcgi.
    public var params: [String: String]
    /// The request body, read up to the server's limit.
    public var body: [UInt8]
    /// True when `CONTENT_LENGTH` was over the limit: the body was discarded, not read.
    public var bodyTooLarge: Bool

    public init(params: [String: String], body: [UInt8] = [], bodyTooLarge: Bool = false) {
        self.params = params
        self.body = body
        self.bodyTooLarge = bodyTooLarge
    }
}

/// What an answer waits for without holding a thread: the server calls `start` once it has
/// set the request aside, and the thread that calls `done` (the click writer's, after its
/// commit) writes the answer, or `failure()` on `done(false)`: made only then, as nearly every
/// write succeeds (an error page per click was a few percent of the machine).
public final class FastCGIDeferral: Sendable {
    public typealias Done = @Sendable (_ succeeded: Bool) -> Void
    public let start: @Sendable (_ done: @escaping Done) -> Void
    public let failure: @Sendable () -> FastCGIResponse

    public init(
        failure: @escaping @Sendable () -> FastCGIResponse, start: @escaping @Sendable (_ done: @escaping Done) -> Void
    ) {
        self.failure = failure
        self.start = start
    }
}

/// The answer: status, headers and body; written as a CGI response (`Status:` line first).
public struct FastCGIResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// A body written piece by piece after `body` (a large export): it calls `write` with
    /// each chunk, and stops when `write` returns false (the client went away).
    public var stream: BodyStream?

    /// Set when the answer may leave only once something else is done (the click's commit).
    public var deferral: FastCGIDeferral?

    public typealias BodyStream = @Sendable (_ write: ([UInt8]) -> Bool) -> Void

    public init(
        status: Int, headers: [(String, String)] = [], body: [UInt8] = [], stream: BodyStream? = nil, deferral: FastCGIDeferral? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.stream = stream
        self.deferral = deferral
    }

    /// The CGI header block: `Status: 302 Found\r\nLocation: …\r\n\r\n`.
    public func headerBlock() -> String {
        var out = "Status: \(status) \(FastCGIResponse.reason(status))\r\n"
        for (name, value) in headers {
            // A header value may never carry a line break (response splitting).
            out += name + ": " + FastCGIResponse.stripLineBreaks(value) + "\r\n"
        }
        out += "\r\n"
        return out
    }

    static func stripLineBreaks(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 10 || $0 == 13 }) else { return value }
        return String(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Payload Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Status"
        }
    }
}
