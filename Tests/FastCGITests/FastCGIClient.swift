import Foundation
import Glibc

/// A minimal FastCGI client (the web server's side of the protocol), so the responder can be
/// tested on its socket without nginx.
struct FastCGIClient {
    let socketPath: String

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// One request on a connection of its own.
    func request(params: [String: String], body: [UInt8] = []) throws -> Answer {
        let connection = try Connection(socketPath: socketPath)
        return try connection.request(params: params, body: body, keep: false)
    }

    /// A connection that may stay open for several requests (nginx's `fastcgi_keep_conn on`).
    final class Connection {
        let fd: Int32

        init(socketPath: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ClientError("socket failed") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                let bytes = Array(socketPath.utf8)
                for (i, b) in bytes.enumerated() where i < raw.count - 1 { raw[i] = b }
            }
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard rc == 0 else {
                close(fd)
                throw ClientError("connect failed: \(errno)")
            }
        }

        deinit { close(fd) }

        /// `keep`: the responder keeps the connection open after answering.
        func request(params: [String: String], body: [UInt8] = [], keep: Bool) throws -> Answer {
            var out: [UInt8] = []
            out += FastCGIClient.record(type: 1, content: [0, 1, keep ? 1 : 0, 0, 0, 0, 0, 0])  // BEGIN_REQUEST, responder
            var paramBytes: [UInt8] = []
            for (name, value) in params {
                paramBytes +=
                    FastCGIClient.length(name.utf8.count) + FastCGIClient.length(value.utf8.count) + Array(name.utf8) + Array(value.utf8)
            }
            out += FastCGIClient.record(type: 4, content: paramBytes) + FastCGIClient.record(type: 4, content: [])
            var offset = 0
            while offset < body.count {
                let chunk = Array(body[offset..<min(body.count, offset + 32768)])
                out += FastCGIClient.record(type: 5, content: chunk)
                offset += chunk.count
            }
            out += FastCGIClient.record(type: 5, content: [])
            try FastCGIClient.writeAll(fd, out)

            var stdout: [UInt8] = []
            while true {
                let header = try FastCGIClient.readExactly(fd, 8)
                let type = header[1]
                let contentLength = Int(header[4]) << 8 | Int(header[5])
                let padding = Int(header[6])
                let content = try FastCGIClient.readExactly(fd, contentLength + padding)
                if type == 6 { stdout += content.prefix(contentLength) }
                if type == 3 { break }
            }
            return try FastCGIClient.answer(stdout)
        }
    }

    static func answer(_ stdout: [UInt8]) throws -> Answer {
        let text = String(decoding: stdout, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw ClientError("no header block") }
        var headers: [String: String] = [:]
        for line in text[..<split.lowerBound].split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let status = Int(headers["status"]?.prefix(3) ?? "200") ?? 0
        return Answer(status: status, headers: headers, body: String(text[split.upperBound...]))
    }

    static func record(type: UInt8, content: [UInt8]) -> [UInt8] {
        [1, type, 0, 1, UInt8(content.count >> 8), UInt8(content.count & 255), 0, 0] + content
    }

    static func length(_ n: Int) -> [UInt8] {
        n < 128 ? [UInt8(n)] : [UInt8((n >> 24) | 0x80), UInt8((n >> 16) & 255), UInt8((n >> 8) & 255), UInt8(n & 255)]
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ClientError("write failed") }
            sent += n
        }
    }

    static func readExactly(_ fd: Int32, _ count: Int) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer[got...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ClientError("connection closed") }
            got += n
        }
        return buffer
    }
}

struct ClientError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
