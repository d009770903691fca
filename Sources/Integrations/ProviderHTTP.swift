import Accounts
import Catalog
import Deliveries
import Foundation
import HTTPClient
import Web

/// A provider's answer: status, the JSON body when there is one, the raw text.
public struct ProviderAnswer {
    public var status: Int
    public var json: Any?
    public var text: String

    public var object: [String: Any] { json as? [String: Any] ?? [:] }
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

    public func send(_ method: String, _ url: String, headers: [(String, String)] = [], form: [(String, String)]? = nil, json: Any? = nil)
        throws -> ProviderAnswer
    {
        var headers = headers + [("User-Agent", "Waymark/1.0"), ("Accept", "application/json")]
        var body: [UInt8]?
        if let form {
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            body = Array(URLEncoding.formString(form).utf8)
        } else if let json {
            headers.append(("Content-Type", "application/json"))
            body = Array(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes]))
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
        let text = response.text
        return ProviderAnswer(
            status: response.status, json: text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8)), text: text)
    }
}
