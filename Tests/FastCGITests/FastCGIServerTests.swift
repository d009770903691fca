import FastCGI
import Foundation
import Glibc
import Synchronization
import Testing

@Suite struct FastCGIServerTests {
    func makeServer(threads: Int = 4, maxBody: Int = 1024, handler: @escaping FastCGIServer.Handler) throws -> FastCGIServer {
        let path = "/tmp/waymark-fcgi-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let server = FastCGIServer(configuration: .init(socketPath: path, threads: threads, maxBodyBytes: maxBody), handler: handler)
        try server.start()
        return server
    }

    @Test func answersWithStatusHeadersAndBody() throws {
        let server = try makeServer { request in
            FastCGIResponse(
                status: 302, headers: [("Location", "https://example.com/?q=" + (request.params["QUERY_STRING"] ?? ""))],
                body: Array("moved".utf8))
        }
        defer { server.shutdown(timeout: 1) }
        let answer = try FastCGIClient(socketPath: server.configuration.socketPath)
            .request(params: ["REQUEST_METHOD": "GET", "QUERY_STRING": "a=1"])
        #expect(answer.status == 302)
        #expect(answer.headers["location"] == "https://example.com/?q=a=1")
        #expect(answer.body == "moved")
    }

    @Test func readsTheBodyAndRefusesOneOverTheLimit() throws {
        let server = try makeServer(maxBody: 100) { request in
            FastCGIResponse(status: request.bodyTooLarge ? 413 : 200, body: request.body)
        }
        defer { server.shutdown(timeout: 1) }
        let client = FastCGIClient(socketPath: server.configuration.socketPath)
        let small = try client.request(params: ["REQUEST_METHOD": "POST", "CONTENT_LENGTH": "5"], body: Array("hello".utf8))
        #expect(small.status == 200)
        #expect(small.body == "hello")
        let big = [UInt8](repeating: 65, count: 5000)
        let large = try client.request(params: ["REQUEST_METHOD": "POST", "CONTENT_LENGTH": "5000"], body: big)
        #expect(large.status == 413)
        #expect(large.body.isEmpty)
    }

    @Test func headerValuesCannotSplitTheResponse() {
        let response = FastCGIResponse(status: 200, headers: [("X-Test", "a\r\nSet-Cookie: evil=1")])
        #expect(response.headerBlock() == "Status: 200 OK\r\nX-Test: aSet-Cookie: evil=1\r\n\r\n")
    }

    @Test func servesRequestsOnAllThreadsAtOnce() throws {
        let threads = 8
        let inside = Mutex((now: 0, peak: 0))
        let server = try makeServer(threads: threads) { _ in
            inside.withLock {
                $0.now += 1
                $0.peak = max($0.peak, $0.now)
            }
            usleep(200_000)
            inside.withLock { $0.now -= 1 }
            return FastCGIResponse(status: 200)
        }
        defer { server.shutdown(timeout: 1) }
        let path = server.configuration.socketPath
        let group = DispatchGroup()
        let statuses = Mutex([Int]())
        for _ in 0..<threads {
            group.enter()
            Thread.detachNewThread {
                let status = (try? FastCGIClient(socketPath: path).request(params: ["REQUEST_METHOD": "GET"]).status) ?? -1
                statuses.withLock { $0.append(status) }
                group.leave()
            }
        }
        group.wait()
        #expect(statuses.withLock { $0 } == Array(repeating: 200, count: threads))
        #expect(inside.withLock { $0.peak } == threads)
    }

    @Test func shutdownWaitsForRequestsInFlight() throws {
        let server = try makeServer { _ in
            usleep(300_000)
            return FastCGIResponse(status: 200, body: Array("done".utf8))
        }
        let path = server.configuration.socketPath
        let answer = Mutex<String?>(nil)
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let body = try? FastCGIClient(socketPath: path).request(params: ["REQUEST_METHOD": "GET"]).body
            answer.withLock { $0 = body }
            finished.signal()
        }
        while server.inFlight == 0 { usleep(1000) }
        #expect(server.shutdown(timeout: 5))
        finished.wait()
        #expect(answer.withLock { $0 } == "done")
        // No longer accepting.
        #expect(throws: (any Error).self) { try FastCGIClient(socketPath: path).request(params: [:]) }
    }
}
