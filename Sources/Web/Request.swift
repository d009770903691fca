import FastCGI
import Foundation

/// An HTTP request as the web layer sees it, built from nginx's FastCGI parameters.
public struct Request: Sendable {
    public var method: String
    /// The decoded path without the query string.
    public var path: String
    public var rawQuery: String
    /// Query parameters in order; a name may repeat.
    public var query: [(String, String)]
    /// Header names lower-cased (`content-type`, `user-agent`, …).
    public var headers: [String: String]
    public var body: [UInt8]
    public var bodyTooLarge: Bool
    /// The client address as nginx saw it (`REMOTE_ADDR`).
    public var remoteAddress: String
    /// nginx's `$request_id`, or one made here.
    public var requestID: String
    public var scheme: String
    /// Host and port the client used (`HTTP_HOST`).
    public var host: String
    /// Path parameters filled in by the router (`{id}` → `parameters["id"]`).
    public var parameters: [String: String] = [:]
    /// Everything else nginx passed (e.g. `GEOIP_COUNTRY_CODE`).
    public var params: [String: String]
    public let receivedAt: Date

    public init(fastCGI: FastCGIRequest, receivedAt: Date = Date()) {
        let p = fastCGI.params
        method = p["REQUEST_METHOD"] ?? "GET"
        let uri = p["REQUEST_URI"] ?? p["DOCUMENT_URI"] ?? "/"
        if let q = uri.firstIndex(of: "?") {
            path = URLEncoding.decode(uri[..<q], plusAsSpace: false)
        } else {
            path = URLEncoding.decode(uri, plusAsSpace: false)
        }
        rawQuery = p["QUERY_STRING"] ?? ""
        query = URLEncoding.parseForm(rawQuery)
        var headers: [String: String] = [:]
        for (name, value) in p where name.utf8.starts(with: "HTTP_".utf8) {
            headers[Request.headerName(fromCGI: name)] = value
        }
        if let type = p["CONTENT_TYPE"], !type.isEmpty { headers["content-type"] = type }
        if let length = p["CONTENT_LENGTH"], !length.isEmpty { headers["content-length"] = length }
        self.headers = headers
        body = fastCGI.body
        bodyTooLarge = fastCGI.bodyTooLarge
        remoteAddress = p["REMOTE_ADDR"] ?? ""
        requestID = p["REQUEST_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? Request.makeID()
        scheme = p["REQUEST_SCHEME"] ?? ((p["HTTPS"] ?? "").isEmpty ? "http" : "https")
        host = p["HTTP_HOST"] ?? p["SERVER_NAME"] ?? "localhost"
        params = p
        self.receivedAt = receivedAt
    }

    /// A request made in code (tests, internal dispatch).
    public init(method: String, path: String, query: String = "", headers: [String: String] = [:], body: [UInt8] = []) {
        var params: [String: String] = [
            "REQUEST_METHOD": method, "REQUEST_URI": query.isEmpty ? path : path + "?" + query, "QUERY_STRING": query,
        ]
        for (name, value) in headers {
            params["HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_")] = value
        }
        if let type = headers["content-type"] { params["CONTENT_TYPE"] = type }
        params["CONTENT_LENGTH"] = String(body.count)
        self.init(fastCGI: FastCGIRequest(params: params, body: body))
    }

    /// `HTTP_USER_AGENT` → `user-agent`.
    static func headerName(fromCGI name: String) -> String {
        var bytes = Array(name.utf8.dropFirst(5))
        for i in bytes.indices {
            if bytes[i] == UInt8(ascii: "_") {
                bytes[i] = UInt8(ascii: "-")
            } else if bytes[i] >= 65 && bytes[i] <= 90 {
                bytes[i] += 32
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func makeID() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// A numeric path parameter (`{id}`); 404 when it is missing or not a number.
    public func pathID(_ name: String = "id") throws(HTTPError) -> Int64 {
        // Digits only: `+1` or `-0` is no id this API gave out.
        guard let text = parameters[name], text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let id = Int64(text) else { throw .notFound() }
        return id
    }

    /// The first query value of `name`.
    public func queryValue(_ name: String) -> String? { query.first { $0.0 == name }?.1 }

    /// The media type without parameters, lower-cased (`application/json`).
    public var contentType: String {
        let raw = headers["content-type"] ?? ""
        return raw.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }

    public var cookies: [String: String] {
        guard let raw = headers["cookie"] else { return [:] }
        var out: [String: String] = [:]
        // Split on bytes, not Characters: a `;` or `=` followed by a combining mark is one
        // Character, which kept `a=1;\u{301}b=2` as one cookie (found by Tests/Fuzz cookies).
        for part in raw.utf8.split(separator: UInt8(ascii: ";")) {
            let item = Substring(part).trimmingCharacters(in: .whitespaces)
            guard let eq = item.utf8.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(Substring(item.utf8[..<eq]))
            if out[name] == nil { out[name] = String(Substring(item.utf8[item.utf8.index(after: eq)...])) }
        }
        return out
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Fields of a urlencoded or multipart form body (multipart files are left out).
    public func form() throws(HTTPError) -> [(String, String)] {
        let fields: [(String, String)]
        switch contentType {
        case "application/x-www-form-urlencoded", "":
            fields = URLEncoding.parseForm(bodyText)
        case "multipart/form-data":
            fields = try multipart().compactMap { $0.filename == nil ? ($0.name, $0.text) : nil }
        default:
            throw .unsupportedMediaType("expected a form body")
        }
        // PostgreSQL keeps no NUL in text: such a field could be neither stored nor matched.
        if let bad = fields.first(where: { $0.0.utf8.contains(0) || $0.1.utf8.contains(0) }) {
            throw .badRequest("form fields must not contain NUL (%00)", field: bad.0.utf8.contains(0) ? nil : bad.0)
        }
        return fields
    }

    /// The parts of a `multipart/form-data` body.
    public func multipart() throws(HTTPError) -> [MultipartPart] {
        guard contentType == "multipart/form-data", let boundary = Multipart.boundary(from: headers["content-type"] ?? "") else {
            throw .unsupportedMediaType("expected multipart/form-data")
        }
        guard boundary.utf8.count <= Multipart.maxBoundaryLength else {
            throw .badRequest("the multipart boundary is longer than \(Multipart.maxBoundaryLength) characters")
        }
        guard let parts = Multipart.parse(body, boundary: boundary) else {
            throw .badRequest("malformed multipart body")
        }
        return parts
    }

    /// Decodes a JSON body (snake_case keys) into `T`.
    public func decodeJSON<T: Decodable>(_ type: T.Type) throws(HTTPError) -> T {
        guard contentType == "application/json" || contentType.hasSuffix("+json") else {
            throw .unsupportedMediaType("expected application/json")
        }
        if Request.hasEscapedNUL(body) { throw Request.nulInJSON }
        try JSONNumbers.check(body)
        do {
            return try JSONCoding.decoder.decode(T.self, from: Data(body))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .validation([key.stringValue: "is required"])
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let name = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .validation([name.isEmpty ? "body" : name: "has the wrong type"])
        } catch {
            throw HTTPError(400, code: "invalid_json", message: "the body is not valid JSON")
        }
    }

    /// A JSON object body as a dictionary (for endpoints that take loose JSON).
    public func jsonObject() throws(HTTPError) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw HTTPError(400, code: "invalid_json", message: "the body is not a JSON object")
        }
        if Request.hasEscapedNUL(body) { throw Request.nulInJSON }
        try JSONNumbers.check(body)
        return object
    }

    static let nulInJSON = HTTPError(400, code: "invalid_json", message: "strings in the body must not contain NUL (\\u0000)")

    /// A `\u0000` escape in a JSON text (its backslash not itself escaped): PostgreSQL keeps no
    /// NUL in text or jsonb, so such a string can be neither stored nor matched.
    static func hasEscapedNUL(_ bytes: [UInt8]) -> Bool {
        let escape = Array("\\u0000".utf8)
        var i = 0
        while i + escape.count <= bytes.count {
            if bytes[i] == escape[0] {
                if bytes[(i + 1)..<(i + escape.count)].elementsEqual(escape[1...]) { return true }
                i += 2  // a backslash and the character it escapes (`\\` included)
            } else {
                i += 1
            }
        }
        return false
    }
}
