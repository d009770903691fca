import Accounts
import Catalog
import Deliveries
import Foundation
import HTTPClient
import Web

/// A provider's answer: status and the raw text, read into the provider's answer types.
public struct ProviderAnswer {
    public var status: Int
    public var text: String

    public init(status: Int, text: String) {
        self.status = status
        self.text = text
    }

    /// The body as that shape, or nil when it is not JSON of that shape.
    public func decode<T: Decodable>(_ type: T.Type) -> T? { ProviderJSON.decode(type, from: text) }

    /// The body as that shape, or the empty one.
    public func shape<T: LenientDecodable>(_ type: T.Type) -> T { ProviderJSON.shape(type, from: text) }
}

/// Every provider call goes through here: the origin map, then the outbound policy (a URL the
/// origin map rewrote is the operator's own and exempt from the address check). Tokens are
/// passed in by the caller and never logged.
public struct ProviderHTTP: Sendable {
    public var origins: ProviderOrigins
    public var timeout: Double
    public var outbound: OutboundPolicy

    public init(origins: ProviderOrigins, timeout: Double, outbound: OutboundPolicy) {
        self.origins = origins
        self.timeout = timeout
        self.outbound = outbound
    }

    public func send(
        _ method: String, _ url: String, headers: [(String, String)] = [], form: [(String, String)]? = nil,
        json: (any Encodable)? = nil
    )
        throws -> ProviderAnswer
    {
        var headers = headers + [("User-Agent", "Waymark/1.0"), ("Accept", "application/json")]
        var body: [UInt8]?
        if let form {
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            body = Array(URLEncoding.formString(form).utf8)
        } else if let json {
            headers.append(("Content-Type", "application/json"))
            // The body may carry a token: the failure says nothing of it.
            do { body = try ProviderJSON.encode(json) } catch { throw ProviderFailure(.rejected, "the request body could not be encoded") }
        }
        let target = origins.rewrite(url)
        let request = HTTPRequest(
            method: method, url: target, headers: headers, body: body,
            connectTimeout: min(5, timeout), timeout: timeout, maxResponseBytes: 8 << 20)
        let response: HTTPResponse
        do {
            response = try outbound.send(request, exempt: target != url)
        } catch {
            throw ProviderFailure(
                .temporary, Redaction.scrub("\(method) \(Redaction.withoutQuery(url)): \(error)", secrets: headers.map(\.1)))
        }
        return ProviderAnswer(status: response.status, text: response.text)
    }
}
