import Foundation
import HTTPClient

/// The fake ad platforms of the test instance (Tests/Fakes, started by the stack with
/// `WAYMARK_FAKE_PROVIDERS=1`): their control API, for arranging and checking.
public struct TestFake: Sendable {
    public var base: String

    /// `google`, `meta`, `tiktok` or `ga4`.
    public init(_ provider: String) {
        base = TestEnvironment.require("WAYMARK_FAKE_" + provider.uppercased())
    }

    @discardableResult
    public func control(_ method: String, _ path: String, _ object: Any? = nil) throws -> HTTPResponse {
        let body = try object.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        return try HTTPClient.send(
            HTTPRequest(
                method: method, url: base + "/__fake/" + path, headers: [("Content-Type", "application/json")],
                body: body, timeout: 10))
    }

    public func reset() throws { try control("POST", "reset") }
    public func revokeTokens() throws { try control("POST", "revoke-tokens") }
    public func expireTokens() throws { try control("POST", "expire-tokens") }

    /// The requests the fake received whose path contains `path`, in order.
    public func requests(_ path: String = "") throws -> [[String: Any]] {
        let r = try control("GET", "requests?path_contains=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? path))
        return r.json["requests"] as? [[String: Any]] ?? []
    }

    /// Conversion events received, each `{provider, endpoint, account_or_pixel, event}`.
    public func receivedEvents() throws -> [[String: Any]] {
        let r = try control("GET", "received-events")
        return (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [[String: Any]] ?? []
    }

    /// Follows an authorize URL (a real provider origin) on the fake: the redirect it answers.
    public func authorize(_ url: String) throws -> String {
        guard let range = url.range(of: "://"), let slash = url[range.upperBound...].firstIndex(of: "/") else {
            throw TestSetupError("not a URL: \(url)")
        }
        let r = try HTTPClient.send(HTTPRequest(url: base + url[slash...], timeout: 10))
        guard r.status == 302 || r.status == 303, let location = r.header("location") else {
            throw TestSetupError("authorize answered \(r.status): \(r.text)")
        }
        return location
    }
}
