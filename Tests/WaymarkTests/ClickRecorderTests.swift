import Addresses
import Catalog
import Crypto
import Foundation
import Testing
import Tracking
import Waymark
import WaymarkCore

@Suite struct ClickRecorderTests {
    func campaign(
        destination: String, parameters: [(String, Int)] = [], clickIDParam: String? = nil, cost: Campaign.CostModel = .none,
        amount: Decimal = 0
    ) -> CachedCampaign {
        CachedCampaign(
            id: 42, key: "Key_42", active: true, destinationURL: destination, fallbackURL: nil, costModel: cost, costAmount: amount,
            trafficSourceID: 7, workspaceID: nil, clickIDParam: clickIDParam,
            parameters: parameters.map { TrafficSource.Parameter(name: $0.0, token: "", slot: $0.1) })
    }

    func visit(
        _ parameters: [(String, String)], ua: String = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36",
        ip: String = "203.0.113.5", country: String = "DE"
    ) -> Visit {
        Visit(
            parameters: parameters, ip: ip, userAgent: ua, referrer: "https://news.example/", country: country,
            at: Date(timeIntervalSince1970: 1_795_000_000))
    }

    @Test func everyTokenIsSubstitutedAndEncoded() {
        let c = campaign(
            destination:
                "https://o.example/p?a={clickid}&b={campaign_id}&c={campaign_key}&d={traffic_source_id}&e={external_id}"
                + "&f={country}&g={zone}&h={missing}&{{keep}}",
            parameters: [("zone", 1)], clickIDParam: "cid")
        let click = ClickRecorder(botAddresses: IPRanges("")).click(for: c, visit: visit([("zone", "a b&c=d/é"), ("cid", "X+1")]))
        #expect(
            click.destination == "https://o.example/p?a=\(click.id)&b=42&c=Key_42&d=7&e=X%2B1&f=DE&g=a%20b%26c%3Dd%2F%C3%A9&h=&{{keep}}")
    }

    @Test func parametersLandInTheirSlotsAndTheRestIsKept() {
        let facebook = campaign(
            destination: "https://o.example/", parameters: [("campaign_id", 1), ("adset_id", 2), ("ad_id", 3), ("placement", 7)],
            clickIDParam: "fbclid")
        let click = ClickRecorder(botAddresses: IPRanges("")).click(
            for: facebook,
            visit: visit([
                ("campaign_id", "120"), ("ad_id", "99"), ("placement", "Facebook_Mobile_Feed"), ("fbclid", "IwAR1"), ("utm_source", "fb"),
                ("campaign_id", "ignored"),
            ]))
        #expect(click.slots == [1: "120", 3: "99", 7: "Facebook_Mobile_Feed"])
        #expect(click.externalID == "IwAR1")
        #expect(click.extra == ["utm_source": "fb"])
        let custom = campaign(destination: "https://o.example/", parameters: [("list", 4), ("segment", 9)])
        let c2 = ClickRecorder(botAddresses: IPRanges("")).click(for: custom, visit: visit([("segment", "vip"), ("list", "weekly")]))
        #expect(c2.slots == [4: "weekly", 9: "vip"])
        #expect(c2.externalID == nil)
    }

    @Test func costFollowsTheCostModel() {
        let recorder = ClickRecorder(botAddresses: IPRanges(""))
        #expect(
            recorder.click(for: campaign(destination: "https://o.example/", cost: .cpc, amount: Decimal(string: "0.45")!), visit: visit([]))
                .cost == "0.45")
        // CPM is per impression, not per click.
        #expect(recorder.click(for: campaign(destination: "https://o.example/", cost: .cpm, amount: 2), visit: visit([])).cost == "0")
        #expect(
            recorder.click(for: campaign(destination: "https://o.example/", cost: .auto), visit: visit([("cost", "0.0123")])).cost
                == "0.0123")
        #expect(recorder.click(for: campaign(destination: "https://o.example/", cost: .auto), visit: visit([("cost", "1e9")])).cost == "0")
        #expect(recorder.click(for: campaign(destination: "https://o.example/", cost: .cpa, amount: 5), visit: visit([])).cost == "0")
    }

    @Test func botsAndUniqueVisitors() {
        let recorder = ClickRecorder(botAddresses: IPRanges("198.51.100.0/24, 192.0.2.7"))
        let c = campaign(destination: "https://o.example/")
        #expect(recorder.click(for: c, visit: visit([])).isUnique)
        #expect(!recorder.click(for: c, visit: visit([])).isUnique)
        #expect(recorder.click(for: c, visit: visit([], ip: "203.0.113.6")).isUnique)
        #expect(!recorder.click(for: c, visit: visit([])).isBot)
        #expect(recorder.click(for: c, visit: visit([], ua: "")).isBot)
        #expect(recorder.click(for: c, visit: visit([], ua: "Mozilla/5.0 (compatible; Googlebot/2.1)")).isBot)
        #expect(recorder.click(for: c, visit: visit([], ua: "Mozilla/5.0 HeadlessChrome/120.0")).isBot)
        #expect(recorder.click(for: c, visit: visit([], ip: "198.51.100.77")).isBot)
        #expect(recorder.click(for: c, visit: visit([], ip: "192.0.2.7")).isBot)
    }

    /// nginx may resend a click to a second responder: the same request id (and time) must make
    /// the same click id there, under the installation's key only, and nothing else may.
    @Test func aRequestIDFixesTheClickIDUnderTheKey() {
        let key = SymmetricKey(size: .bits256)
        let (first, second) = (ClickRecorder(botAddresses: IPRanges(""), idKey: key), ClickRecorder(botAddresses: IPRanges(""), idKey: key))
        let other = ClickRecorder(botAddresses: IPRanges(""), idKey: SymmetricKey(size: .bits256))
        let c = campaign(destination: "https://o.example/?c={clickid}")
        var v = visit([])
        v.requestID = "0123456789abcdef0123456789abcdef"
        let id = first.click(for: c, visit: v).id
        #expect(second.click(for: c, visit: v).id == id)
        #expect(ClickID.time(of: id) == v.at)
        #expect(other.click(for: c, visit: v).id != id)
        // The id is not the request id in another spelling.
        #expect(!id.contains("0123456789"))
        var next = v
        next.requestID = "0123456789abcdef0123456789abcdee"
        #expect(first.click(for: c, visit: next).id != id)
        // No request id (or a malformed one): random as before.
        var bare = v
        bare.requestID = nil
        #expect(first.click(for: c, visit: bare).id != first.click(for: c, visit: bare).id)
        bare.requestID = "short"
        #expect(first.click(for: c, visit: bare).id != first.click(for: c, visit: bare).id)
    }

    @Test func userAgentsAreRead() {
        let iphone = UserAgent(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")
        #expect(
            iphone
                == UserAgent.init(
                    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"))
        #expect([iphone.device, iphone.os, iphone.browser] == ["mobile", "iOS", "Safari"])
        let android = UserAgent("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36")
        #expect([android.device, android.os, android.browser] == ["mobile", "Android", "Chrome"])
        let tablet = UserAgent("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 Chrome/120.0 Safari/537.36")
        #expect(tablet.device == "tablet")
        let edge = UserAgent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0")
        #expect([edge.device, edge.os, edge.browser] == ["desktop", "Windows", "Edge"])
        let mac = UserAgent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0; rv:121.0) Gecko/20100101 Firefox/121.0")
        #expect([mac.os, mac.browser] == ["macOS", "Firefox"])
    }

    @Test func clickIDsAreURLSafeRandomAndCarryTheirTime() {
        let at = Date(timeIntervalSince1970: 1_795_000_123)
        let a = ClickID.make(at: at), b = ClickID.make(at: at)
        #expect(a != b)
        #expect(a.count == 23 && a.count <= 32)
        #expect(a.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(ClickID.time(of: a) == at)
        #expect(ClickID.time(of: "not-a-click-id") == nil)
    }
}

@Suite struct TokenTemplateTests {
    @Test func parsesTokensOnceAndLeavesEverythingElse() {
        let t = TokenTemplate("https://x.example/{a}?m={{macro}}&lone={&bad={no space}&u={under_score-1}{a}}")
        #expect(t.tokens == ["a", "under_score-1", "a"])
        let filled = t.render { name in name == "a" ? "1 2" : "é" }
        #expect(filled == "https://x.example/1%202?m={{macro}}&lone={&bad={no space}&u=%C3%A91%202}")
        #expect(TokenTemplate("").render { _ in "x" } == "")
        #expect(TokenTemplate("{{unclosed").render { _ in "x" } == "{{unclosed")
        #expect(TokenTemplate("{{a}").render { _ in "x" } == "{x")
    }
}

/// The unique-visitor memory is bounded, and its cost per click does not grow with it.
@Suite struct UniqueVisitorTests {
    let campaign = CachedCampaign(
        id: 9, key: "Uniq_9", active: true, destinationURL: "https://o.example/?c={clickid}", fallbackURL: nil, costModel: .none,
        costAmount: 0,
        trafficSourceID: 1, workspaceID: nil, clickIDParam: nil, parameters: [])

    func visit(_ i: Int, at: Double) -> Visit {
        Visit(
            parameters: [], ip: "198.51.\(i >> 16 & 255).\(i >> 8 & 255)", userAgent: "UA \(i)", referrer: "", country: "",
            at: Date(timeIntervalSince1970: at))
    }

    @Test func firstVisitWithin24HoursOnly() {
        let recorder = ClickRecorder(botAddresses: IPRanges(""))
        let t = 1_795_000_000.0
        #expect(recorder.click(for: campaign, visit: visit(1, at: t)).isUnique)
        #expect(!recorder.click(for: campaign, visit: visit(1, at: t + 3600)).isUnique)
        #expect(!recorder.click(for: campaign, visit: visit(1, at: t + 23 * 3600)).isUnique)
        #expect(recorder.click(for: campaign, visit: visit(1, at: t + 26 * 3600)).isUnique)
        #expect(recorder.click(for: campaign, visit: visit(2, at: t + 26 * 3600)).isUnique)
    }

    @Test func twoMillionVisitorsKeepTheCostPerClickFlat() {
        let recorder = ClickRecorder(botAddresses: IPRanges(""), uniqueCapacity: 1_000_000)
        let t = 1_795_000_000.0
        let clock = ContinuousClock()
        var spans: [Duration] = []
        let block = 200_000
        for b in 0..<10 {
            let start = clock.now
            for i in (b * block)..<((b + 1) * block) {
                _ = recorder.click(for: campaign, visit: visit(i, at: t + Double(i) / 100))
            }
            spans.append(clock.now - start)
        }
        // Relative, not a time target: the last 200 000 cost about what the first did.
        let first = spans[0], last = spans[9]
        #expect(last < first * 3, "\(spans)")
        // And memory stayed within the bound: the 2 million are not all remembered.
        #expect(recorder.rememberedVisitors <= 1_000_000)
        #expect(recorder.rememberedVisitors > 100_000)
    }

    @Test func theUserAgentCacheReadsAsTheReaderAndStaysBounded() {
        let cache = UserAgentCache(capacity: 100)
        let phone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
        #expect(cache.reading(phone) == UserAgent(phone))
        #expect(cache.reading(phone) == UserAgent(phone))  // from the cache
        // A flood of distinct agents: each read right, the cache never past its capacity.
        for n in 0..<1000 {
            let agent = n % 2 == 0 ? "curl/8.\(n)" : "Mozilla/5.0 (Windows NT 10.0) Firefox/\(n)"
            #expect(cache.reading(agent) == UserAgent(agent))
            #expect(cache.count <= 100)
        }
        let long = phone + String(repeating: "x", count: 600)
        #expect(cache.reading(long) == UserAgent(long))
        #expect(cache.count <= 100)
    }
}
