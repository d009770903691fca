/// An error that becomes an HTTP answer: JSON `{"error":{code,message,fields}}` for API and
/// tracking paths, a plain page elsewhere.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// Field name → what is wrong with it (form and JSON validation).
    public var fields: [String: String]
    /// The single offending field (docs/tracking.md's postback errors name one).
    public var field: String?
    public var headers: [(String, String)]

    public init(
        _ status: Int, code: String, message: String, fields: [String: String] = [:], field: String? = nil,
        headers: [(String, String)] = []
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.field = field
        self.headers = headers
    }

    public var description: String { "HTTP \(status) \(code): \(message)" }

    public static func badRequest(_ message: String, field: String? = nil) -> HTTPError {
        HTTPError(400, code: "invalid_parameter", message: message, field: field)
    }
    public static func unauthorized(_ message: String = "authentication required") -> HTTPError {
        HTTPError(401, code: "unauthorized", message: message)
    }
    public static func forbidden(_ message: String = "not allowed") -> HTTPError {
        HTTPError(403, code: "forbidden", message: message)
    }
    public static func notFound(_ message: String = "not found") -> HTTPError {
        HTTPError(404, code: "not_found", message: message)
    }
    public static func methodNotAllowed(_ allowed: [String]) -> HTTPError {
        HTTPError(405, code: "method_not_allowed", message: "method not allowed", headers: [("Allow", allowed.joined(separator: ", "))])
    }
    public static func conflict(_ message: String) -> HTTPError {
        HTTPError(409, code: "conflict", message: message)
    }
    public static func payloadTooLarge(_ message: String = "request body too large") -> HTTPError {
        HTTPError(413, code: "payload_too_large", message: message)
    }
    public static func unsupportedMediaType(_ message: String) -> HTTPError {
        HTTPError(415, code: "unsupported_media_type", message: message)
    }
    public static func validation(_ fields: [String: String], message: String = "some fields are not valid") -> HTTPError {
        HTTPError(422, code: "validation_failed", message: message, fields: fields)
    }
    public static func tooManyRequests(_ message: String = "too many requests", retryAfter: Int? = nil) -> HTTPError {
        HTTPError(429, code: "rate_limited", message: message, headers: retryAfter.map { [("Retry-After", String($0))] } ?? [])
    }
    public static func unavailable(_ message: String) -> HTTPError {
        HTTPError(503, code: "unavailable", message: message)
    }
}
