import Foundation
import Glibc
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests: it stands in for an ad platform or a
/// webhook receiver, records every request, and answers what the test tells it to.
public final class TestListener: @unchecked Sendable {
    public struct Received: Sendable {
        public var method: String
        public var target: String
        public var headers: [String: String]
        public var body: String
    }

    /// Status and body for a request (called once per request, in arrival order).
    public typealias Answer = @Sendable (Received) -> (status: Int, body: String, delay: Double)

    public let port: Int
    /// A loopback IPv4 address (`127.0.0.2` stands for an address outbound calls may not reach).
    public let host: String
    private let fd: Int32
    private let received = Mutex<[Received]>([])
    private let answer: Answer

    public init(host: String = "127.0.0.1", answer: @escaping Answer = { _ in (200, "ok", 0) }) throws {
        self.host = host
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(host)
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else { throw TestSetupError("test listener: cannot listen (errno \(errno))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        self.answer = answer
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { close(fd) }

    public var url: String { "http://\(host):\(port)" }
    public var requests: [Received] { received.withLock { $0 } }

    /// Stops accepting (the port closes).
    public func stop() { shutdown(fd, Int32(SHUT_RDWR)) }

    private func acceptLoop() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            Thread.detachNewThread { [self] in handle(client) }
        }
    }

    private func handle(_ client: Int32) {
        defer { close(client) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var headerEnd: Int?
        var contentLength = 0
        while true {
            let n = read(client, &buffer, buffer.count)
            if n <= 0 { return }
            data += buffer[0..<n]
            if headerEnd == nil, let end = TestListener.find([13, 10, 13, 10], in: data) {
                headerEnd = end + 4
                let head = String(decoding: data[0..<end], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headerEnd, data.count >= headerEnd + contentLength { break }
        }
        let end = headerEnd!
        let lines = String(decoding: data[0..<(end - 4)], as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = Received(
            method: requestLine.count > 0 ? String(requestLine[0]) : "", target: requestLine.count > 1 ? String(requestLine[1]) : "",
            headers: headers, body: String(decoding: data[end..<(end + contentLength)], as: UTF8.self))
        received.withLock { $0.append(request) }
        let (status, body, delay) = answer(request)
        if delay > 0 { usleep(useconds_t(delay * 1_000_000)) }
        let response =
            "HTTP/1.1 \(status) X\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = response.withCString { write(client, $0, strlen($0)) }
    }

    static func find(_ needle: [UInt8], in data: [UInt8]) -> Int? {
        guard data.count >= needle.count else { return nil }
        for i in 0...(data.count - needle.count) where data[i..<(i + needle.count)].elementsEqual(needle) { return i }
        return nil
    }
}
