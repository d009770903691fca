import Foundation
import Glibc

/// Resolves a URL's host and checks every address before anything connects.
enum OutboundAddress {
    /// The `host:port:address` entry for CURLOPT_RESOLVE, or `.denied` / `.invalidURL`.
    static func check(_ url: String, isDenied: (String) -> Bool) throws(HTTPClientError) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            var host = components.host, !host.isEmpty
        else { throw HTTPClientError(code: .invalidURL, message: "not an absolute http(s) URL: \(url)") }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw HTTPClientError(code: .connect, message: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(result) }
        var addresses: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(n.pointee.ai_addr, n.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                addresses.append(String(cString: buffer))
            }
            node = n.pointee.ai_next
        }
        guard let chosen = addresses.first else { throw HTTPClientError(code: .connect, message: "no address for \(host)") }
        if let bad = addresses.first(where: isDenied) {
            throw HTTPClientError(code: .denied, message: "\(host) resolves to \(bad), which outbound calls may not reach")
        }
        let pinned = chosen.contains(":") ? "[\(chosen)]" : chosen
        let name = host.contains(":") ? "[\(host)]" : host
        return "\(name):\(port):\(pinned)"
    }
}
