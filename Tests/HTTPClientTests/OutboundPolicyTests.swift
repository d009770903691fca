import Addresses
import HTTPClient
import Testing
import WaymarkTesting

/// The one outbound policy (docs/tracking.md): what it refuses, with no connection made.
@Suite struct OutboundPolicyTests {
    let policy = OutboundPolicy()

    @Test func deniesEveryLocalAndReservedForm() {
        for address in [
            "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1",
            "100.127.255.254", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
            "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1", "64:ff9b::a00:1", "64:ff9b::127.0.0.1",
            "100.100.100.200", "fd00:ec2::254", "not an address",
        ] {
            #expect(policy.isDenied(address), "\(address)")
        }
        for address in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1", "100.128.0.1", "::ffff:8.8.8.8"] {
            #expect(!policy.isDenied(address), "\(address)")
        }
    }

    @Test func theAllowListOpensOnlyItsRange() {
        let open = OutboundPolicy(allow: "127.0.0.1/32,10.9.0.0/16")
        #expect(!open.isDenied("127.0.0.1"))
        #expect(!open.isDenied("::ffff:127.0.0.1"))
        #expect(!open.isDenied("10.9.1.1"))
        #expect(open.isDenied("127.0.0.2"))
        #expect(open.isDenied("10.10.0.1"))
        let more = OutboundPolicy(extraDeny: "93.184.216.0/24")
        #expect(more.isDenied("93.184.216.34") && more.isDenied("127.0.0.1"))
    }

    @Test func refusesLoopbackBeforeConnecting() throws {
        let trap = try TestListener()
        for url in [
            trap.url + "/x", "http://localhost:\(trap.port)/x", "http://localhost.:\(trap.port)/x", "http://LOCALHOST..:\(trap.port)/x",
            "http://[::ffff:127.0.0.1]:\(trap.port)/x", "http://2130706433:\(trap.port)/x",
        ] {
            do {
                _ = try policy.send(HTTPRequest(url: url, timeout: 3))
                Issue.record("\(url) was reached")
            } catch {
                #expect(error.code == .denied || error.code == .invalidURL || error.code == .connect, "\(url): \(error)")
            }
        }
        #expect(trap.requests.isEmpty)
        trap.stop()
    }

    @Test func aHostWithATrailingDotIsPinnedLikeWithout() throws {
        // Allowed 127.0.0.1 only: `localhost.` must connect to the address that was checked.
        let listener = try TestListener()
        let open = OutboundPolicy(allow: "127.0.0.1/32")
        for host in ["localhost.", "LocalHost.", "localhost"] {
            let answer = try open.send(HTTPRequest(url: "http://\(host):\(listener.port)/dot", timeout: 3))
            #expect(answer.status == 200, "\(host)")
        }
        #expect(listener.requests.count == 3)
        listener.stop()
    }

    @Test func headersThatCouldSplitARequestAreRefused() throws {
        for (name, value) in [("X-Key", "a\r\nX-Evil: 1"), ("X-Key", "a\nb"), ("X-Key", "a\u{0}b"), ("Bad Name", "v"), ("X-Key", "a\rb")] {
            do {
                _ = try policy.send(HTTPRequest(url: "http://93.184.216.34/", headers: [(name, value)], timeout: 1))
                Issue.record("\(name.debugDescription): \(value.debugDescription) was sent")
            } catch {
                #expect(error.code == .invalidHeader, "\(error)")
            }
        }
        #expect(OutboundPolicy.isHeaderValue("text/csv; charset=utf-8\tok"))
    }

    @Test func errorsAreRedactedInOnePlace() {
        let cases: [(String, [String], [String])] = [
            ("GET https://g.example/x?access_token=EAAB123secret&y=2: timeout", [], ["EAAB123secret"]),
            (#"{"error":{"message":"bad","client_secret":"s3cr3t-value"}}"#, [], ["s3cr3t-value"]),
            ("Authorization: Bearer ya29.token-value", [], ["ya29.token-value"]),
            ("refused: Bearer abc.def.ghi", [], ["abc.def.ghi"]),
            ("the header K-123-secret was refused", ["K-123-secret"], ["K-123-secret"]),
        ]
        for (text, secrets, hidden) in cases {
            let scrubbed = Redaction.scrub(text, secrets: secrets)
            for h in hidden { #expect(!scrubbed.contains(h), "\(scrubbed)") }
        }
        #expect(Redaction.scrub("HTTP 500 from https://feeds.example/cost.csv") == "HTTP 500 from https://feeds.example/cost.csv")
        #expect(Redaction.withoutQuery("https://a.example/p?token=x#f") == "https://a.example/p")
    }
}
