import HTTPClient
import Testing
import WaymarkTesting

/// Against the test instance's nginx.
@Suite(.needsStack, .timeLimit(.minutes(5))) struct HTTPClientTests {
    @Test func verifiesTLSAgainstTheGivenCA() throws {
        let ok = try HTTPClient.send(HTTPRequest(url: TestEnvironment.baseURL + "/healthz", caFile: TestEnvironment.caFile))
        #expect(ok.status == 200)
        #expect(ok.header("Content-Type") == "application/json")
        // The self-signed certificate is not in the system store: verification refuses it.
        do {
            _ = try HTTPClient.send(HTTPRequest(url: TestEnvironment.baseURL + "/healthz"))
            Issue.record("an unverified certificate was accepted")
        } catch {
            #expect(error.code == .tls)
        }
    }

    @Test func doesNotFollowRedirectsUnlessAsked() throws {
        let plain = try HTTPClient.send(HTTPRequest(url: TestEnvironment.httpURL + "/healthz"))
        #expect(plain.status == 301)
        let followed = try HTTPClient.send(
            HTTPRequest(url: TestEnvironment.httpURL + "/healthz", followRedirects: true, caFile: TestEnvironment.caFile))
        #expect(followed.status == 200)
    }

    @Test func capsTheResponseSize() throws {
        do {
            _ = try HTTPClient.send(
                HTTPRequest(url: TestEnvironment.baseURL + "/healthz", maxResponseBytes: 5, caFile: TestEnvironment.caFile))
            Issue.record("expected the cap to stop the response")
        } catch {
            #expect(error.code == .tooLarge)
        }
    }

    @Test func sendsMethodHeadersAndBody() throws {
        let response = try HTTPClient.send(
            HTTPRequest(
                method: "POST", url: TestEnvironment.baseURL + "/__test/echo?x=1",
                headers: [("Content-Type", "application/json")], body: Array(#"{"a":[1,2]}"#.utf8), caFile: TestEnvironment.caFile))
        #expect(response.status == 200)
        #expect(response.json["method"] as? String == "POST")
        #expect((response.json["json"] as? [String: Any])?["a"] as? [Int] == [1, 2])
    }

    @Test func refusedConnectionsAndTimeoutsAreErrors() throws {
        do {
            _ = try HTTPClient.send(HTTPRequest(url: "http://127.0.0.1:9/", connectTimeout: 1, timeout: 2))
            Issue.record("expected a connection error")
        } catch {
            #expect(error.code == .connect)
        }
        do {
            _ = try HTTPClient.send(
                HTTPRequest(url: TestEnvironment.baseURL + "/__test/echo?sleep_ms=1500", timeout: 0.3, caFile: TestEnvironment.caFile))
            Issue.record("expected a timeout")
        } catch {
            #expect(error.code == .timeout)
        }
    }
}
