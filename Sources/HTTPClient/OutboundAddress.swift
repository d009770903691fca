import Addresses
import Foundation
import Glibc

/// Resolves a URL's host and checks every address before anything connects.
enum OutboundAddress {
    /// The `host:port:address` entries for CURLOPT_RESOLVE (the host as written and without
    /// its trailing dots, so libcurl finds the pin either way), or `.denied` / `.invalidURL`.
    static func check(_ url: String, isDenied: ([UInt8]) -> Bool) throws(HTTPClientError) -> [String] {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https",
            let written = components.host, !written.isEmpty
        else { throw HTTPClientError(code: .invalidURL, message: "not an absolute http(s) URL: \(Redaction.withoutQuery(url))") }
        var host = written
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let normalized = normalize(host)
        guard !normalized.isEmpty else { throw HTTPClientError(code: .invalidURL, message: "no host in \(Redaction.withoutQuery(url))") }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(normalized, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw HTTPClientError(code: .connect, message: "cannot resolve \(normalized): \(String(cString: gai_strerror(rc)))")
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
        guard let chosen = addresses.first else { throw HTTPClientError(code: .connect, message: "no address for \(normalized)") }
        if let bad = addresses.first(where: { IPRanges.parse($0).map { isDenied($0.0) } ?? true }) {
            throw HTTPClientError(code: .denied, message: "\(normalized) resolves to \(bad), which outbound calls may not reach")
        }
        let pinned = chosen.contains(":") ? "[\(chosen)]" : chosen
        return Set([host, normalized]).sorted().map { name in
            "\(name.contains(":") ? "[\(name)]" : name):\(port):\(pinned)"
        }
    }

    /// Lower case, without trailing dots (`Rebind.Example.` and `rebind.example` are one host).
    static func normalize(_ host: String) -> String {
        var h = Substring(host.lowercased())
        while h.hasSuffix(".") { h = h.dropLast() }
        return String(h)
    }
}
