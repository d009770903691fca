import CCurl
import Foundation

/// An outbound HTTP request. TLS verification is always on; redirects are not followed unless
/// asked; the answer is capped at `maxResponseBytes`.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    public var connectTimeout: Double
    public var timeout: Double
    public var maxResponseBytes: Int
    public var followRedirects: Bool
    /// When set (by `OutboundPolicy`), the host is resolved first and the call refused
    /// (`.denied`) if any of its addresses is denied; libcurl then connects to the checked
    /// address only (no second lookup that could answer differently), and the address of every
    /// socket it opens is checked again. Addresses are 16 bytes, IPv4 mapped.
    public var isAddressDenied: (@Sendable ([UInt8]) -> Bool)?
    /// A CA bundle to trust instead of the system's (e.g. a local self-signed certificate).
    public var caFile: String?

    public init(
        method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        connectTimeout: Double = 5, timeout: Double = 15, maxResponseBytes: Int = 4 << 20,
        followRedirects: Bool = false, caFile: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
        self.followRedirects = followRedirects
        self.caFile = caFile
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased, in the order received.
    public var headers: [(String, String)]
    public var body: [UInt8]

    /// `headers` names are lower-cased here, as libcurl's answers are.
    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers.map { ($0.0.lowercased(), $0.1) }
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0 == lower }?.1
    }

    public func headers(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.0 == lower }.map(\.1)
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let timeout = Code(name: "timeout")
        public static let connect = Code(name: "connect")
        public static let tls = Code(name: "tls")
        public static let tooLarge = Code(name: "response_too_large")
        public static let invalidURL = Code(name: "invalid_url")
        public static let denied = Code(name: "address_denied")
        public static let invalidHeader = Code(name: "invalid_header")
        public static let other = Code(name: "other")
    }

    public var code: Code
    public var message: String
    public var description: String { "\(code.name): \(message)" }
}

/// Sends requests through libcurl, one easy handle per request (handles are not shared
/// between threads). Blocking: call it from a worker thread, never from the async pool.
public enum HTTPClient {
    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK }()

    /// Call once at start, before threads, as libcurl asks.
    public static func initialize() { _ = globalInit }

    public static func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        _ = globalInit
        guard let handle = curl_easy_init() else {
            throw HTTPClientError(code: .other, message: "curl_easy_init failed")
        }
        defer { curl_easy_cleanup(handle) }

        let sink = ResponseSink(limit: request.maxResponseBytes)
        // The lists must outlive curl_easy_perform.
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        var resolveList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(resolveList) }
        let guardBox = request.isAddressDenied.map(SocketGuard.init)
        var socketGuard = wm_open_guard()
        if let guardBox {
            resolveList = try pin(handle, request.url, guardBox, &socketGuard)
        }
        setTransportOptions(handle, request)
        headerList = setMethodBodyAndHeaders(handle, request)
        collect(handle, into: sink)

        let code = withUnsafeMutablePointer(to: &socketGuard) { pointer in
            if guardBox != nil { wm_curl_guard_sockets(handle, pointer) }
            return withExtendedLifetime(guardBox) { curl_easy_perform(handle) }
        }
        if code != CURLE_OK {
            if socketGuard.refused != 0 {
                throw HTTPClientError(code: .denied, message: "the address connected to is one outbound calls may not reach")
            }
            if sink.overflowed {
                throw HTTPClientError(code: .tooLarge, message: "response over \(request.maxResponseBytes) bytes")
            }
            throw HTTPClientError(code: errorCode(code), message: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        wm_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body)
    }

    /// Resolves and checks the host first, pins libcurl to the checked addresses and arms the
    /// socket check; returns the resolve list (the caller frees it after the transfer).
    private static func pin(
        _ handle: UnsafeMutableRawPointer, _ url: String, _ guardBox: SocketGuard, _ socketGuard: inout wm_open_guard
    ) throws(HTTPClientError) -> UnsafeMutablePointer<curl_slist>? {
        var resolveList: UnsafeMutablePointer<curl_slist>? = nil
        for pin in try OutboundAddress.check(url, isDenied: guardBox.isDenied) {
            resolveList = curl_slist_append(resolveList, pin)
        }
        wm_curl_setopt_slist(handle, CURLOPT_RESOLVE, resolveList)
        socketGuard.context = Unmanaged.passUnretained(guardBox).toOpaque()
        socketGuard.allowed = { bytes, context in
            let box = Unmanaged<SocketGuard>.fromOpaque(context!).takeUnretainedValue()
            return box.isDenied(Array(UnsafeBufferPointer(start: bytes, count: 16))) ? 0 : 1
        }
        return resolveList
    }

    /// URL, timeouts, TLS verification, redirects and protocols.
    private static func setTransportOptions(_ handle: UnsafeMutableRawPointer, _ request: HTTPRequest) {
        wm_curl_setopt_string(handle, CURLOPT_URL, request.url)
        wm_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        wm_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000))
        wm_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
        wm_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
        wm_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
        wm_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        wm_curl_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
        wm_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        wm_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        wm_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, "")
        if let caFile = request.caFile { wm_curl_setopt_string(handle, CURLOPT_CAINFO, caFile) }
    }

    /// The method, the body and the headers; returns the header list (freed by the caller).
    private static func setMethodBodyAndHeaders(_ handle: UnsafeMutableRawPointer, _ request: HTTPRequest) -> UnsafeMutablePointer<
        curl_slist
    >? {
        let method = request.method.uppercased()
        switch method {
        case "GET": wm_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case "HEAD": wm_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
        default: wm_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method)
        }
        // The body is copied by libcurl (COPYPOSTFIELDS), so it need not outlive this call's setup.
        if let body = request.body {
            wm_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE_LARGE, body.count)
            body.withUnsafeBytes { raw in
                _ = wm_curl_setopt_pointer(
                    handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            }
            if method == "GET" || method == "HEAD" { wm_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method) }
        }
        // An empty Expect stops libcurl's 100-continue round trip on larger bodies.
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        for (name, value) in request.headers + [("Expect", "")] {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        wm_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        return headerList
    }

    /// Body and header callbacks into `sink` (which the caller keeps alive for the transfer).
    private static func collect(_ handle: UnsafeMutableRawPointer, into sink: ResponseSink) {
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        wm_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION) { data, size, count, user in
            let sink = Unmanaged<ResponseSink>.fromOpaque(user!).takeUnretainedValue()
            return sink.appendBody(data, size * count) ? size * count : 0
        }
        wm_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        wm_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION) { data, size, count, user in
            let sink = Unmanaged<ResponseSink>.fromOpaque(user!).takeUnretainedValue()
            sink.appendHeader(data, size * count)
            return size * count
        }
        wm_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)
    }

    private static func errorCode(_ code: CURLcode) -> HTTPClientError.Code {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .connect
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidURL
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CACERT_BADFILE: .tls
        default: .other
        }
    }
}

/// The address check of a request, for the socket callback (which gets a C pointer to it).
private final class SocketGuard {
    let isDenied: @Sendable ([UInt8]) -> Bool
    init(_ isDenied: @escaping @Sendable ([UInt8]) -> Bool) { self.isDenied = isDenied }
}

/// Collects one response; touched only by the thread running curl_easy_perform.
private final class ResponseSink {
    let limit: Int
    var body: [UInt8] = []
    var headers: [(String, String)] = []
    var overflowed = false

    init(limit: Int) { self.limit = limit }

    func appendBody(_ data: UnsafeMutablePointer<CChar>, _ count: Int) -> Bool {
        if body.count + count > limit {
            overflowed = true
            return false
        }
        data.withMemoryRebound(to: UInt8.self, capacity: count) {
            body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
        }
        return true
    }

    func appendHeader(_ data: UnsafeMutablePointer<CChar>, _ count: Int) {
        let line = data.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
        if line.hasPrefix("HTTP/") {
            headers = []  // a new response (after 100 Continue or a followed redirect)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
        headers.append((name, value))
    }
}
