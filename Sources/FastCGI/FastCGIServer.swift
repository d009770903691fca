import CFastCGI
import Glibc
import Synchronization
import Threads

/// A multi-threaded FastCGI responder on a unix socket or a TCP `host:port`, built on libfcgi.
///
/// Each thread owns one heap-allocated `FCGX_Request` and loops on `FCGX_Accept_r` (no accept
/// mutex: on Linux accept is safe without one, and the mutex halves throughput). The answer
/// leaves at `FCGX_Finish_r`, after the handler returned, so a handler that commits before it
/// returns never answers early.
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
        /// On TCP, the web servers that may connect (IPv4 addresses, comma separated): libfcgi
        /// closes any other connection before reading it (`FCGI_WEB_SERVER_ADDRS`).
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

    private static let initialized: Bool = { FCGX_Init() == 0 }()

    public init(configuration: Configuration, handler: @escaping Handler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// Opens the socket and starts the threads; returns at once.
    public func start() throws(FastCGIError) {
        // libfcgi reads the list once, in FCGX_Init.
        if configuration.isTCP { setenv("FCGI_WEB_SERVER_ADDRS", configuration.webServerAddresses, 1) }
        guard FastCGIServer.initialized else { throw FastCGIError("FCGX_Init failed") }
        let fd = configuration.isTCP ? FCGX_OpenSocket(configuration.socketPath, configuration.backlog) : try openUnixSocket()
        guard fd >= 0 else { throw FastCGIError("cannot listen on \(configuration.socketPath): errno \(errno)") }
        listenFD.store(fd, ordering: .releasing)
        for _ in 0..<configuration.threads {
            do {
                try spawnThread(stackBytes: configuration.threadStackBytes) { [self] in self.serve(listenFD: fd) }
            } catch {
                throw FastCGIError(error.description)
            }
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
            Glibc.shutdown(fd, Int32(SHUT_RDWR))  // wakes the threads blocked in accept()
        }
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

    private func serve(listenFD: Int32) {
        guard let request = wm_fcgx_request_new(listenFD) else { return }
        defer { wm_fcgx_request_free(request) }
        var failures = 0
        while true {
            let rc = FCGX_Accept_r(request)
            if rc < 0 {
                if isStopping { return }
                failures += 1
                if failures > 3 { usleep(10_000) }  // a broken listener must not spin a core
                continue
            }
            failures = 0
            inFlightCount.add(1, ordering: .sequentiallyConsistent)
            let incoming = readRequest(request)
            let response = handler(incoming)
            write(response, to: request)
            FCGX_Finish_r(request)
            inFlightCount.subtract(1, ordering: .sequentiallyConsistent)
            if isStopping { return }
        }
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
