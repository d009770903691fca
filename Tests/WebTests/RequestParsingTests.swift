import FastCGI
import Testing
import Web

@Suite struct RequestParsingTests {
    @Test func decodesAndEncodesURLComponents() {
        #expect(URLEncoding.decode("a%20b+c%2Bd") == "a b c+d")
        #expect(URLEncoding.decode("100%") == "100%")
        #expect(URLEncoding.decode("%E2%82%AC") == "€")
        #expect(URLEncoding.encode("a b&c=d/é~") == "a%20b%26c%3Dd%2F%C3%A9~")
        #expect(URLEncoding.encode("plain-Text_1.0") == "plain-Text_1.0")
    }

    @Test func parsesFormsInOrderWithRepeats() {
        let pairs = URLEncoding.parseForm("a=1&b=two+words&a=3&empty=&flag")
        #expect(pairs.map { $0.0 } == ["a", "b", "a", "empty", "flag"])
        #expect(pairs.map { $0.1 } == ["1", "two words", "3", "", ""])
        let odd = URLEncoding.parseForm("&&a=%ZZ%4&=v&b=%C3&c=x=y&%41%2b=+")
        #expect(odd.map { $0.0 } == ["a", "", "b", "c", "A+"])
        #expect(odd.map { $0.1 } == ["%ZZ%4", "v", "\u{FFFD}", "x=y", " "])
    }

    @Test func buildsARequestFromFastCGIParameters() {
        let request = Request(
            fastCGI: FastCGIRequest(params: [
                "REQUEST_METHOD": "POST", "REQUEST_URI": "/c/abc%20d?x=1&y=%C3%A9", "QUERY_STRING": "x=1&y=%C3%A9",
                "HTTP_USER_AGENT": "Mozilla/5.0", "HTTP_COOKIE": "a=1; wm_session=xyz", "CONTENT_TYPE": "application/json; charset=utf-8",
                "REMOTE_ADDR": "203.0.113.9", "REQUEST_ID": "rid1", "HTTP_X_FORWARDED_FOR": "1.2.3.4",
            ]))
        #expect(request.method == "POST")
        #expect(request.path == "/c/abc d")
        #expect(request.queryValue("y") == "é")
        #expect(request.header("User-Agent") == "Mozilla/5.0")
        #expect(request.header("x-forwarded-for") == "1.2.3.4")
        #expect(request.cookies["wm_session"] == "xyz")
        #expect(request.contentType == "application/json")
        #expect(request.remoteAddress == "203.0.113.9")
        #expect(request.requestID == "rid1")
    }

    @Test func parsesMultipartWithFilesAndFields() throws {
        let body =
            "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
            + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"spend.csv\"\r\nContent-Type: text/csv\r\n\r\n"
            + "date,amount\r\n2026-11-01,1.5\r\n\r\n--XyZ--\r\n"
        let request = Request(
            method: "POST", path: "/x", headers: ["content-type": "multipart/form-data; boundary=XyZ"], body: Array(body.utf8))
        let parts = try request.multipart()
        #expect(parts.count == 2)
        #expect(parts[0].name == "note" && parts[0].text == "hello" && parts[0].filename == nil)
        #expect(parts[1].filename == "spend.csv")
        #expect(parts[1].contentType == "text/csv")
        #expect(parts[1].text == "date,amount\r\n2026-11-01,1.5\r\n")
        #expect(try request.form().map { $0.0 } == ["note"])
    }

    @Test func rejectsMalformedMultipart() {
        let request = Request(
            method: "POST", path: "/x", headers: ["content-type": "multipart/form-data; boundary=B"], body: Array("--B\r\nno end".utf8))
        #expect(throws: HTTPError.self) { try request.multipart() }
    }

    @Test func decodesJSONBodiesAndNamesMissingFields() throws {
        struct Input: Decodable {
            var name: String
            var costCurrency: String
        }
        let ok = Request(
            method: "POST", path: "/x", headers: ["content-type": "application/json"],
            body: Array(#"{"name":"a","cost_currency":"EUR"}"#.utf8))
        #expect(try ok.decodeJSON(Input.self).costCurrency == "EUR")
        let missing = Request(method: "POST", path: "/x", headers: ["content-type": "application/json"], body: Array(#"{"name":"a"}"#.utf8))
        do {
            _ = try missing.decodeJSON(Input.self)
            Issue.record("expected an error")
        } catch {
            #expect(error.status == 422)
            #expect(error.fields["costCurrency"] == "is required" || error.fields["cost_currency"] == "is required")
        }
        let wrongType = Request(method: "POST", path: "/x", headers: ["content-type": "text/plain"], body: [])
        #expect(throws: HTTPError.self) { try wrongType.decodeJSON(Input.self) }
    }
}
