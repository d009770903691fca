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

    @Test func keptConnectionsOutnumberingTheThreadsAreAllServed() throws {
        // Two threads, four connections kept open: a thread is not tied to a connection.
        let server = try makeServer(threads: 2) { request in
            FastCGIResponse(status: 200, body: Array((request.params["N"] ?? "").utf8))
        }
        defer { server.shutdown(timeout: 1) }
        let path = server.configuration.socketPath
        var connections = try (0..<4).map { _ in try FastCGIClient.Connection(socketPath: path) }
        for round in 0..<3 {
            for (i, connection) in connections.enumerated() {
                let answer = try connection.request(params: ["REQUEST_METHOD": "GET", "N": "\(round)-\(i)"], keep: true)
                #expect(answer.status == 200)
                #expect(answer.body == "\(round)-\(i)")
            }
        }
        // nginx closes kept connections it no longer needs: each is let go, and no thread is lost.
        connections.removeLast(3)
        usleep(50_000)
        #expect(try connections[0].request(params: ["REQUEST_METHOD": "GET", "N": "kept"], keep: true).body == "kept")
        for n in 0..<3 {
            #expect(try FastCGIClient(socketPath: path).request(params: ["REQUEST_METHOD": "GET", "N": "new-\(n)"]).body == "new-\(n)")
        }
    }

    @Test func aDeferredAnswerLeavesWhenItsWorkCallsBackAndHoldsNoThread() throws {
        let callbacks = Mutex<[FastCGIDeferral.Done]>([])
        // One thread: while two answers wait, it still serves another request.
        let server = try makeServer(threads: 1) { request in
            guard request.params["DEFER"] == "1" else { return FastCGIResponse(status: 200, body: Array("now".utf8)) }
            let deferral = FastCGIDeferral(failure: { FastCGIResponse(status: 503, body: Array("not stored".utf8)) }) { done in
                callbacks.withLock { $0.append(done) }
            }
            return FastCGIResponse(status: 302, headers: [("Location", "https://example.com/")], deferral: deferral)
        }
        defer { server.shutdown(timeout: 1) }
        let path = server.configuration.socketPath
        let answers = Mutex<[Int: FastCGIClient.Answer]>([:])
        let group = DispatchGroup()
        for i in 0..<2 {
            group.enter()
            Thread.detachNewThread {
                if let answer = try? FastCGIClient(socketPath: path).request(params: ["REQUEST_METHOD": "GET", "DEFER": "1"]) {
                    answers.withLock { $0[i] = answer }
                }
                group.leave()
            }
        }
        while callbacks.withLock({ $0.count }) < 2 { usleep(1000) }
        #expect(try FastCGIClient(socketPath: path).request(params: ["REQUEST_METHOD": "GET"]).body == "now")
        #expect(answers.withLock { $0.isEmpty })
        // The third request's count drops just after its answer left.
        for _ in 0..<1000 where server.inFlight != 2 { usleep(1000) }
        #expect(server.inFlight == 2)
        let done = callbacks.withLock { $0 }
        done[0](true)
        done[1](false)
        group.wait()
        let statuses = answers.withLock { $0.values.map(\.status).sorted() }
        #expect(statuses == [302, 503])
        #expect(answers.withLock { $0.values.first { $0.status == 302 }?.headers["location"] } == "https://example.com/")
        #expect(answers.withLock { $0.values.first { $0.status == 503 }?.body } == "not stored")
        for _ in 0..<1000 where server.inFlight != 0 { usleep(1000) }
        #expect(server.inFlight == 0)
    }

    @Test func onlyTheAllowedWebServersMayConnectOverTCP() {
        #expect(FastCGIServer.allows("127.0.0.1", list: "127.0.0.1"))
        #expect(FastCGIServer.allows("10.0.0.2", list: "127.0.0.1, 10.0.0.2"))
        #expect(FastCGIServer.allows("10.0.0.2", list: "::ffff:10.0.0.2") == false)
        #expect(FastCGIServer.allows("::ffff:10.0.0.2", list: "10.0.0.2"))
        #expect(FastCGIServer.allows("10.0.0.3", list: "127.0.0.1,10.0.0.2") == false)
        #expect(FastCGIServer.allows("10.0.0.20", list: "10.0.0.2") == false)
        #expect(FastCGIServer.allows("192.0.2.7", list: ""))
    }
}
