import Addresses

/// The one policy for every call whose URL a user typed or a provider answered (docs/tracking.md
/// "Outbound calls made for users"): deliveries, webhooks, spend feeds, integrations. It denies
/// loopback, private, link-local, CGNAT, unique-local, unspecified, multicast and reserved
/// addresses (and their IPv4-mapped, IPv4-compatible and NAT64 forms) on the address actually
/// connected to; it never follows redirects, caps timeouts and answer sizes, refuses header
/// names and values that could split a request, and keeps tokens out of its error messages.
public struct OutboundPolicy: Sendable {
    public static let defaultDeny = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
        "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1/128", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10",
        "ff00::/8", "100.100.100.200",
    ].joined(separator: ",")

    public let deny: IPRanges
    /// Ranges an operator opened (`WAYMARK_OUTBOUND_ALLOW`); they win over the deny list.
    public let allow: IPRanges
    public var connectTimeout: Double
    /// The longest any one call may take, whatever its caller asks.
    public var timeout: Double
    public var maxResponseBytes: Int

    /// `extraDeny` adds to the defaults (`WAYMARK_OUTBOUND_DENY`); only `allow` opens a range.
    public init(
        allow: String = "", extraDeny: String = "", connectTimeout: Double = 5, timeout: Double = 30, maxResponseBytes: Int = 20 << 20
    ) {
        deny = IPRanges(OutboundPolicy.defaultDeny + "," + extraDeny)
        self.allow = IPRanges(allow)
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// Whether a connection to this address (16 bytes, IPv4 mapped) is refused.
    public func isDenied(bytes: [UInt8]) -> Bool {
        if allow.contains(bytes: bytes) { return false }
        if deny.contains(bytes: bytes) { return true }
        if let v4 = IPRanges.embeddedIPv4(bytes) { return !allow.contains(bytes: v4) && deny.contains(bytes: v4) }
        return false
    }

    public func isDenied(_ address: String) -> Bool {
        guard let (bytes, _) = IPRanges.parse(address) else { return true }
        return isDenied(bytes: bytes)
    }

    /// Sends `request` under the policy: the address checked (unless `exempt`, for the
    /// operator's own provider origins), no redirects, timeouts and size capped, headers checked.
    public func send(_ request: HTTPRequest, exempt: Bool = false) throws(HTTPClientError) -> HTTPResponse {
        var request = request
        for (name, value) in request.headers {
            guard OutboundPolicy.isHeaderName(name), OutboundPolicy.isHeaderValue(value) else {
                throw HTTPClientError(
                    code: .invalidHeader,
                    message: "header \(OutboundPolicy.isHeaderName(name) ? name : "name") has a character no header may carry")
            }
        }
        request.followRedirects = false
        request.connectTimeout = min(request.connectTimeout, connectTimeout)
        request.timeout = min(request.timeout, timeout)
        request.maxResponseBytes = min(request.maxResponseBytes, maxResponseBytes)
        if !exempt {
            let policy = self
            request.isAddressDenied = { policy.isDenied(bytes: $0) }
        }
        return try HTTPClient.send(request)
    }

    /// RFC 9110 token characters only.
    public static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 256
            && name.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "!#$%&'*+-.^_`|~".utf8.contains(b)
            }
    }

    /// No CR, LF, NUL or other control byte (checked on bytes: "\r\n" is one Character).
    public static func isHeaderValue(_ value: String) -> Bool {
        value.utf8.count <= 8192 && value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }
    }
}
