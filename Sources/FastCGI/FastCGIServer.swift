import CFastCGI
import Glibc
import Synchronization
import Threads

/// A multi-threaded FastCGI responder on a unix socket or a TCP `host:port`, built on libfcgi.
///
/// One thread accepts nginx's connections; every connection then waits in an epoll set until
/// its next request arrives, and one of the `threads` takes it (EPOLLONESHOT: one thread
/// per request), reads it with libfcgi and runs the handler. A connection is owned by one
/// thread at a time and goes back to the set after its answer. The answer leaves at
/// `FCGX_Finish_r`, after the handler returned, or for a deferred answer (a click) after the
/// thread that calls it back (the click writer, after its commit) wrote it: no thread sleeps
/// while a click commits, and nothing is answered early.
public final class FastCGIServer: Sendable {
    public struct Configuration: Sendable {
        public var socketPath: String
        public var threads: Int
        public var backlog: Int32
        public var maxBodyBytes: Int
        /// Owner and group only: whoever can write to the socket can speak FastCGI and set
        /// `REMOTE_ADDR` to anything. nginx reaches it through `socketGroup`.
        public var socketMode: mode_t
        public var socketGroup: gid_t?
        public var threadStackBytes: Int
        /// On TCP, the web servers that may connect (addresses, comma separated): any other
        /// connection is closed before it is read (as libfcgi's `FCGI_WEB_SERVER_ADDRS`).
        public var webServerAddresses: String

        public init(
            socketPath: String, threads: Int = 64, backlog: Int32 = 4096,
            maxBodyBytes: Int = 16 << 20, socketMode: mode_t = 0o660, socketGroup: gid_t? = nil, threadStackBytes: Int = 1 << 20,
            webServerAddresses: String = "127.0.0.1"
        ) {
            self.socketPath = socketPath
            self.threads = threads
            self.backlog = backlog
            self.maxBodyBytes = maxBodyBytes
            self.socketMode = socketMode
            self.socketGroup = socketGroup
            self.threadStackBytes = threadStackBytes
            self.webServerAddresses = webServerAddresses
        }

        /// `host:port` (TCP, for a responder on another host than nginx) rather than a path.
        public var isTCP: Bool { !socketPath.hasPrefix("/") && socketPath.contains(":") }
    }

    public typealias Handler = @Sendable (FastCGIRequest) -> FastCGIResponse

    public let configuration: Configuration
    private let handler: Handler
    // Atomics, not a mutex: every request touches `inFlight` twice from one of many threads.
    private let listenFD = Atomic<Int32>(-1)
    private let stopping = Atomic<Bool>(false)
    private let inFlightCount = Atomic<Int>(0)
    /// Connections waiting for their next request, and an eventfd that wakes every thread
    /// to stop.
    private let epollFD: Int32
    private let wakeFD: Int32

    private static let initialized: Bool = { FCGX_Init() == 0 }()

    public init(configuration: Configuration, handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = wm_eventfd()
        _ = wm_epoll_watch_always(epollFD, wakeFD)
    }

    /// Opens the socket and starts the threads; returns at once.
    public func start() throws(FastCGIError) {
        guard FastCGIServer.initialized else { throw FastCGIError("FCGX_Init failed") }
        guard epollFD >= 0, wakeFD >= 0 else { throw FastCGIError("cannot make the epoll set: errno \(errno)") }
        let fd = configuration.isTCP ? FCGX_OpenSocket(configuration.socketPath, configuration.backlog) : try openUnixSocket()
        guard fd >= 0 else { throw FastCGIError("cannot listen on \(configuration.socketPath): errno \(errno)") }
        listenFD.store(fd, ordering: .releasing)
        do {
            try spawnThread(stackBytes: 256 << 10) { [self] in self.acceptConnections(listenFD: fd) }
            for _ in 0..<configuration.threads {
                try spawnThread(stackBytes: configuration.threadStackBytes) { [self] in self.serveRequests() }
            }
        } catch {
            throw FastCGIError(error.description)
        }
    }

    private func openUnixSocket() throws(FastCGIError) -> Int32 {
        unlink(configuration.socketPath)
        // The socket is made with no permissions for others from the start (no window in which
        // anyone could connect), then given its group.
        let previous = umask(0o777 & ~configuration.socketMode)
        let fd = FCGX_OpenSocket(configuration.socketPath, configuration.backlog)
        umask(previous)
        guard fd >= 0 else { return fd }
        if let group = configuration.socketGroup, chown(configuration.socketPath, uid_t.max, group) != 0 {
            throw FastCGIError("cannot give \(configuration.socketPath) to group \(group): errno \(errno)")
        }
        guard chmod(configuration.socketPath, configuration.socketMode) == 0 else {
            throw FastCGIError("cannot set the mode of \(configuration.socketPath): errno \(errno)")
        }
        return fd
    }

    /// Stops accepting, then waits (up to `timeout` seconds) for in-flight requests to finish.
    /// Returns true when none were left.
    @discardableResult
    public func shutdown(timeout: Double = 10) -> Bool {
        stopping.store(true, ordering: .sequentiallyConsistent)
        let fd = listenFD.load(ordering: .acquiring)
        if fd >= 0 {
            Glibc.shutdown(fd, Int32(SHUT_RDWR))  // wakes the thread blocked in accept()
        }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)  // and those waiting for a request
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if inFlight == 0 { break }
            usleep(5_000)
        }
        if !configuration.isTCP { unlink(configuration.socketPath) }
        return inFlight == 0
    }

    public var inFlight: Int { inFlightCount.load(ordering: .acquiring) }
    public var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Accepts nginx's connections into the epoll set (on TCP only from the allowed addresses).
    private func acceptConnections(listenFD: Int32) {
        var failures = 0
        while true {
            let fd = wm_accept(listenFD, configuration.isTCP ? 1 : 0)
            if fd < 0 {
                if isStopping { return }
                failures += 1
                if failures > 3 { usleep(10_000) }  // a broken listener must not spin a core
                continue
            }
            failures = 0
            guard !configuration.isTCP || FastCGIServer.peerAllowed(fd, configuration.webServerAddresses),
                let request = wm_fcgx_request_adopt(fd)
            else {
                close(fd)
                continue
            }
            if wm_epoll_watch(epollFD, fd, request, 1) != 0 { wm_fcgx_request_close(request) }
        }
    }

    /// Takes the next connection with a request waiting, until the server stops.
    private func serveRequests() {
        var failed: Int32 = 0
        while true {
            let next = wm_epoll_next(epollFD, &failed)?.assumingMemoryBound(to: FCGX_Request.self)
            if isStopping {
                // A request that came in on a kept connection after the stop: closing it makes
                // nginx try the click on another responder (fastcgi_next_upstream error).
                if let next { wm_fcgx_request_close(next) }
                return
            }
            guard let request = next else {
                if failed != 0 { usleep(10_000) }
                continue
            }
            serve(request)
        }
    }

    /// One request of a connection: read, handled, answered now or when its deferral calls back.
    private func serve(_ request: UnsafeMutablePointer<FCGX_Request>) {
        // The connection is readable: this reads its next request, or fails at once when
        // nginx closed it (no listening socket to fall back on), which frees it.
        guard FCGX_Accept_r(request) >= 0 else {
            wm_fcgx_request_close(request)
            return
        }
        inFlightCount.add(1, ordering: .sequentiallyConsistent)
        let response = handler(readRequest(request))
        guard let deferral = response.deferral else {
            answer(response, to: request)
            return
        }
        let address = UInt(bitPattern: request)  // handed to the callback's thread
        deferral.start { [self] succeeded in
            answer(succeeded ? response : deferral.failure(), to: UnsafeMutablePointer(bitPattern: address)!)
        }
    }

    /// Writes the answer, ends the request, and puts a kept connection back in the set.
    private func answer(_ response: FastCGIResponse, to request: UnsafeMutablePointer<FCGX_Request>) {
        write(response, to: request)
        FCGX_Finish_r(request)
        inFlightCount.subtract(1, ordering: .sequentiallyConsistent)
        let fd = wm_fcgx_ipc_fd(request)
        if fd < 0 || isStopping || wm_epoll_watch(epollFD, fd, request, 0) != 0 { wm_fcgx_request_close(request) }
    }

    /// Whether the peer of a TCP connection is one of `allowed` (comma separated; empty allows
    /// any), as libfcgi's own FCGI_WEB_SERVER_ADDRS check, which its accept is not here to make.
    static func peerAllowed(_ fd: Int32, _ allowed: String) -> Bool {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard named == 0 else { return false }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = Int32(address.ss_family)
        let written = withUnsafePointer(to: &address) { storage -> Bool in
            storage.withMemoryRebound(to: UInt8.self, capacity: MemoryLayout<sockaddr_storage>.size) { raw in
                let offset = family == AF_INET ? 4 : 8  // sin_addr / sin6_addr within the address
                return inet_ntop(family, raw + offset, &text, socklen_t(text.count)) != nil
            }
        }
        guard written, family == AF_INET || family == AF_INET6 else { return false }
        return allows(String(cString: text), list: allowed)
    }

    /// `peer` against a comma-separated list of addresses; an empty list allows any.
    public static func allows(_ peer: String, list: String) -> Bool {
        let entries = list.split(separator: ",").map { String($0.filter { $0 != " " }) }.filter { !$0.isEmpty }
        return entries.isEmpty || entries.contains(peer) || (peer.hasPrefix("::ffff:") && entries.contains(String(peer.dropFirst(7))))
    }

    private func readRequest(_ request: UnsafeMutablePointer<FCGX_Request>) -> FastCGIRequest {
        // libfcgi frees these at the next accept: decode copies them now.
        let params = wm_fcgx_envp(request).map { FastCGIParams.decode(UnsafePointer($0)) } ?? [:]
        let length = params["CONTENT_LENGTH"].flatMap { Int($0) } ?? 0
        guard length > 0, let input = wm_fcgx_in(request) else {
            return FastCGIRequest(params: params)
        }
        if length > configuration.maxBodyBytes {
            discardBody(input)
            return FastCGIRequest(params: params, bodyTooLarge: true)
        }
        var body = [UInt8](repeating: 0, count: length)
        var read = 0
        body.withUnsafeMutableBufferPointer { buffer in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            while read < length {
                let n = FCGX_GetStr(base + read, Int32(min(length - read, 1 << 20)), input)
                if n <= 0 { break }
                read += Int(n)
            }
        }
        if read < length { body.removeLast(length - read) }
        return FastCGIRequest(params: params, body: body)
    }

    private func discardBody(_ input: UnsafeMutablePointer<FCGX_Stream>) {
        var scratch = [CChar](repeating: 0, count: 64 * 1024)
        while FCGX_GetStr(&scratch, Int32(scratch.count), input) > 0 {}
    }

    private func write(_ response: FastCGIResponse, to request: UnsafeMutablePointer<FCGX_Request>) {
        guard let out = wm_fcgx_out(request) else { return }
        var head = response.headerBlock()
        head.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                _ = FCGX_PutStr(chars.baseAddress, Int32(chars.count), out)
            }
        }
        if !response.body.isEmpty { _ = put(response.body, out) }
        // Each chunk is flushed to nginx, so a long export never sits whole in libfcgi's buffer.
        response.stream?({ chunk in put(chunk, out) && FCGX_FFlush(out) == 0 })
    }

    private func put(_ bytes: [UInt8], _ out: UnsafeMutablePointer<FCGX_Stream>) -> Bool {
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                FCGX_PutStr(chars.baseAddress, Int32(chars.count), out) == Int32(chars.count)
            }
        }
    }
}

public struct FastCGIError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
