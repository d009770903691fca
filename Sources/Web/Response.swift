import FastCGI
import Foundation

/// An HTTP answer.
public struct Response: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// Written after `body`, chunk by chunk (`FastCGIResponse.stream`): exports.
    public var stream: FastCGIResponse.BodyStream?
    /// The write this answer waits for (a click's commit): it leaves once the write is done,
    /// or becomes `failure`'s error answer; no thread waits meanwhile.
    public var pendingWrite: PendingWrite?

    public init(status: Int = 200, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The answer once `start`'s write calls back true; `failure` when it calls back false.
    public func waiting(for start: @escaping PendingWrite.Start, failure: HTTPError) -> Response {
        var copy = self
        copy.pendingWrite = PendingWrite(start: start, failure: failure)
        return copy
    }

    /// HEAD: the headers alone.
    mutating func dropBody() {
        body = []
        stream = nil
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { $0.0.lowercased() == name.lowercased() }
        headers.append((name, value))
    }

    public static func html(_ html: String, status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", "text/html; charset=utf-8")], body: Array(html.utf8))
    }

    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// JSON from an `Encodable` (snake_case keys, sorted, RFC 3339 dates).
    public static func json(_ value: some Encodable, status: Int = 200) -> Response {
        do {
            let data = try JSONCoding.encoder.encode(value)
            return Response(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
        } catch {
            return Response(
                status: 500, headers: [("Content-Type", "application/json")],
                body: Array(#"{"error":{"code":"internal","message":"could not encode the answer"}}"#.utf8))
        }
    }

    /// JSON from plain dictionaries and arrays (`JSONSerialization`), for loose shapes.
    public static func jsonObject(_ object: Any, status: Int = 200) -> Response {
        let data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    /// 303 after a form POST (the browser follows with GET), 302 otherwise.
    public static func redirect(to location: String, status: Int = 303) -> Response {
        Response(status: status, headers: [("Location", location)])
    }

    public func setting(cookie: Cookie) -> Response {
        var copy = self
        copy.headers.append(("Set-Cookie", cookie.headerValue))
        return copy
    }

    var fastCGI: FastCGIResponse { FastCGIResponse(status: status, headers: headers, body: body, stream: stream) }

    /// The whole body, the stream's chunks included (the in-process tester).
    public func collected() -> [UInt8] {
        var all = body
        stream? { chunk in
            all += chunk
            return true
        }
        return all
    }
}

/// A write an answer waits for: `start` begins it and calls `done` once (from any thread).
public struct PendingWrite: Sendable {
    public typealias Start = @Sendable (_ done: @escaping FastCGIDeferral.Done) -> Void
    public let start: Start
    public let failure: HTTPError
}

/// A `Set-Cookie` value; defaults are the safe ones (HttpOnly, Secure, SameSite=Lax).
public struct Cookie: Sendable {
    public var name: String
    public var value: String
    public var path = "/"
    public var maxAge: Int?
    public var httpOnly = true
    public var secure = true
    public var sameSite = "Lax"

    public init(name: String, value: String, maxAge: Int? = nil, path: String = "/", httpOnly: Bool = true, secure: Bool = true) {
        self.name = name
        self.value = value
        self.maxAge = maxAge
        self.path = path
        self.httpOnly = httpOnly
        self.secure = secure
    }

    /// A cookie that deletes `name` in the browser.
    public static func expired(_ name: String) -> Cookie { Cookie(name: name, value: "", maxAge: 0) }

    public var headerValue: String {
        var out = "\(name)=\(value); Path=\(path)"
        if let maxAge { out += "; Max-Age=\(maxAge)" }
        if httpOnly { out += "; HttpOnly" }
        if secure { out += "; Secure" }
        out += "; SameSite=\(sameSite)"
        return out
    }
}

/// The one JSON configuration of the API: snake_case keys, RFC 3339 UTC times.
public enum JSONCoding {
    public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(RFC3339.string(from: date))
        }
        return e
    }()

    public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 time")
            }
            return date
        }
        return d
    }()
}

/// RFC 3339 times in UTC (`2026-11-23T16:03:26Z`, fractions when present).
public enum RFC3339 {
    public static func string(from date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    public static func date(from text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = withFraction.date(from: text) { return d }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }
}
