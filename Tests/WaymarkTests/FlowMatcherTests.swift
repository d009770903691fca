import Catalog
import Foundation
import Testing
import Tracking

/// A seeded generator (SplitMix64), so weighted draws are the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Shared builders for the flow matcher's tests.
enum FlowFixture {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let desktop = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
    static let iPhone =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1"
    static let iPad = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Safari/604.1"
    static let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    /// Wednesday 2026-12-02 10:15 UTC = 11:15 in Berlin.
    static let wednesday = Date(timeIntervalSince1970: 1_796_206_500)

    static func visit(
        country: String = "DE", ua: String = desktop, isBot: Bool = false, language: String = "de-AT,de;q=0.9",
        ip: String = "203.0.113.5", referrer: String = "https://www.News.Example/story?id=1",
        parameters: [(String, String)] = [("zone", "Z12"), ("Geo", "North")], at: Date = wednesday, zone: TimeZone = berlin
    ) -> FlowVisit {
        FlowVisit(
            country: country, userAgent: UserAgent(ua), isBot: isBot, acceptLanguage: language, ip: ip, referrer: referrer,
            parameters: parameters, at: at, timeZone: zone)
    }

    static func flow(_ paths: [FlowPath]) -> Flow {
        Flow(id: 9, workspaceID: nil, name: "Test flow", paths: paths, createdAt: wednesday, updatedAt: wednesday)
    }

    static func path(_ rules: [FlowRule] = [], landers: [(Int64, Int)] = [], offers: [(Int64, Int)]) -> FlowPath {
        FlowPath(
            name: "p", rules: rules, landers: landers.map { FlowPath.Weighted(id: $0.0, weight: $0.1) },
            offers: offers.map { FlowPath.Weighted(id: $0.0, weight: $0.1) })
    }

    static let offers = (1...6).map { FlowOfferInfo(id: Int64($0), url: "https://offer.example/\($0)?c={clickid}") }
    static let landers = (11...13).map { FlowLanderInfo(id: Int64($0), url: "https://lander.example/\($0)") }

    /// Whether one rule lets `visit` into the first path (the second is the default).
    static func matches(_ field: String, _ op: String, _ values: [String], _ visit: FlowVisit) -> Bool {
        let compiled = CompiledFlow(
            flow: flow([path([FlowRule(field: field, op: op, values: values)], offers: [(1, 1)]), path(offers: [(2, 1)])]),
            offers: offers, landers: landers)
        var generator = SeededGenerator(state: 1)
        return compiled.match(visit, using: &generator).route?.pathIndex == 0
    }
}

@Suite struct FlowMatcherTests {
    typealias F = FlowFixture

    @Test func countryInAndNotInIgnoreCaseAndAMissingCountry() {
        #expect(F.matches("country", "in", ["at", "de"], F.visit()))
        #expect(F.matches("country", "in", ["DE"], F.visit(country: "de")))
        #expect(!F.matches("country", "in", ["fr"], F.visit()))
        #expect(F.matches("country", "not_in", ["fr"], F.visit()))
        #expect(!F.matches("country", "not_in", ["De"], F.visit()))
        for unknown in ["", "--", "-"] {
            #expect(!F.matches("country", "in", ["de", "--"], F.visit(country: unknown)))
            #expect(F.matches("country", "not_in", ["de"], F.visit(country: unknown)))
        }
    }

    @Test func deviceFromTheUserAgentAndTheBotFlag() {
        #expect(F.matches("device", "in", ["desktop"], F.visit()))
        #expect(F.matches("device", "in", ["Mobile"], F.visit(ua: F.iPhone)))
        #expect(F.matches("device", "in", ["tablet"], F.visit(ua: F.iPad)))
        #expect(F.matches("device", "in", ["bot"], F.visit(ua: F.bot)))
        #expect(F.matches("device", "in", ["bot"], F.visit(isBot: true)))
        #expect(!F.matches("device", "in", ["desktop"], F.visit(isBot: true)))
        #expect(F.matches("device", "not_in", ["mobile", "tablet"], F.visit()))
        #expect(!F.matches("device", "not_in", ["mobile"], F.visit(ua: F.iPhone)))
    }

    @Test func osAndBrowser() {
        #expect(F.matches("os", "in", ["windows"], F.visit()))
        #expect(F.matches("os", "in", ["IOS"], F.visit(ua: F.iPhone)))
        #expect(F.matches("os", "not_in", ["ios", "android"], F.visit()))
        #expect(F.matches("browser", "in", ["chrome"], F.visit()))
        #expect(F.matches("browser", "in", ["Safari"], F.visit(ua: F.iPhone)))
        #expect(!F.matches("browser", "not_in", ["CHROME"], F.visit()))
        // An unknown OS is a missing value.
        #expect(!F.matches("os", "in", [""], F.visit(ua: "SomeApp/1.0")))
        #expect(F.matches("os", "not_in", ["windows"], F.visit(ua: "SomeApp/1.0")))
    }

    @Test func languageIsThePrimarySubtagOfTheFirstEntry() {
        #expect(FlowVisit.primaryLanguage("de-AT,de;q=0.9,en;q=0.8") == "de")
        #expect(FlowVisit.primaryLanguage("EN_us") == "en")
        #expect(FlowVisit.primaryLanguage(" fr ;q=1, de") == "fr")
        #expect(FlowVisit.primaryLanguage(", pt-BR") == "pt")
        #expect(FlowVisit.primaryLanguage("*") == "")
        #expect(FlowVisit.primaryLanguage("") == "")
        #expect(F.matches("language", "in", ["de"], F.visit()))
        #expect(F.matches("language", "in", ["DE-ch"], F.visit()))  // rule values take the same form
        #expect(!F.matches("language", "in", ["en"], F.visit()))
        #expect(F.matches("language", "not_in", ["en"], F.visit()))
        #expect(!F.matches("language", "in", ["de"], F.visit(language: "")))
        #expect(F.matches("language", "not_in", ["de"], F.visit(language: "*")))
    }

    @Test func ipv4AddressesAndCIDRs() {
        #expect(F.matches("ip", "in", ["203.0.113.0/24"], F.visit()))
        #expect(F.matches("ip", "in", ["198.51.100.7", "203.0.113.5"], F.visit()))
        #expect(!F.matches("ip", "in", ["203.0.112.0/24", "10.0.0.0/8"], F.visit()))
        #expect(F.matches("ip", "in", ["203.0.112.0/23"], F.visit()))
        #expect(F.matches("ip", "not_in", ["10.0.0.0/8"], F.visit()))
        #expect(!F.matches("ip", "not_in", [" 203.0.113.4/30 "], F.visit()))
        // The IPv4-mapped form of the same address.
        #expect(F.matches("ip", "in", ["203.0.113.0/24"], F.visit(ip: "::ffff:203.0.113.5")))
        // No parsable address: missing.
        #expect(!F.matches("ip", "in", ["0.0.0.0/0"], F.visit(ip: "unknown")))
        #expect(F.matches("ip", "not_in", ["203.0.113.0/24"], F.visit(ip: "")))
    }

    @Test func ipv6AddressesAndCIDRs() {
        let visit = F.visit(ip: "2001:DB8:85a3::8a2e:370:7334")
        #expect(F.matches("ip", "in", ["2001:db8::/32"], visit))
        #expect(F.matches("ip", "in", ["2001:db8:85a3::/48"], visit))
        #expect(!F.matches("ip", "in", ["2001:db8:85a4::/48"], visit))
        #expect(F.matches("ip", "in", ["2001:db8:85a3::8a2e:370:7334"], visit))
        #expect(F.matches("ip", "not_in", ["fe80::/10", "203.0.113.0/24"], visit))
        #expect(!F.matches("ip", "not_in", ["2001:db8::/32"], visit))
        #expect(!F.matches("ip", "in", ["2001:db8::/32"], F.visit()))
    }

    @Test func referrerDomainIsTheHostWithoutWWW() {
        #expect(FlowVisit.referrerDomain("https://WWW.News.Example:8443/a?b=c") == "news.example")
        #expect(FlowVisit.referrerDomain("http://user:pw@shop.example./x") == "shop.example")
        #expect(FlowVisit.referrerDomain("https://[2001:db8::1]:443/") == "2001:db8::1")
        #expect(FlowVisit.referrerDomain("//cdn.example/p") == "cdn.example")
        #expect(FlowVisit.referrerDomain("android-app://com.google.android.gm/") == "com.google.android.gm")
        #expect(FlowVisit.referrerDomain("www2.example.com/path") == "www2.example.com")
        #expect(FlowVisit.referrerDomain("") == "")
        #expect(F.matches("referrer_domain", "in", ["news.example"], F.visit()))
        #expect(F.matches("referrer_domain", "in", ["WWW.news.example"], F.visit()))
        #expect(!F.matches("referrer_domain", "in", ["example"], F.visit()))
        #expect(F.matches("referrer_domain", "not_in", ["other.example"], F.visit()))
        #expect(F.matches("referrer_domain", "contains", ["NEWS", "zzz"], F.visit()))
        #expect(!F.matches("referrer_domain", "contains", ["shop"], F.visit()))
        #expect(F.matches("referrer_domain", "not_contains", ["shop", "facebook"], F.visit()))
        #expect(!F.matches("referrer_domain", "not_contains", ["example"], F.visit()))
        // No referrer: missing.
        #expect(!F.matches("referrer_domain", "contains", ["news"], F.visit(referrer: "")))
        #expect(F.matches("referrer_domain", "not_contains", ["news"], F.visit(referrer: "")))
        #expect(F.matches("referrer_domain", "not_in", ["news.example"], F.visit(referrer: "")))
    }

    @Test func parametersByNameWithEveryOp() {
        #expect(F.matches("param:zone", "in", ["z12", "z13"], F.visit()))
        #expect(F.matches("param:ZONE", "in", ["Z12"], F.visit()))
        #expect(F.matches("param:geo", "in", ["north"], F.visit()))
        #expect(!F.matches("param:zone", "in", ["z1"], F.visit()))
        #expect(F.matches("param:zone", "not_in", ["z1"], F.visit()))
        #expect(F.matches("param:zone", "contains", ["1"], F.visit()))
        #expect(!F.matches("param:zone", "contains", ["3"], F.visit()))
        #expect(F.matches("param:zone", "not_contains", ["x", "3"], F.visit()))
        #expect(!F.matches("param:zone", "not_contains", ["Z1"], F.visit()))
        // The first of a repeated name, an empty value and an absent name are as in the click.
        #expect(F.matches("param:zone", "in", ["a"], F.visit(parameters: [("zone", "a"), ("zone", "b")])))
        #expect(!F.matches("param:zone", "in", [""], F.visit(parameters: [("zone", "")])))
        #expect(!F.matches("param:site", "in", ["z12"], F.visit()))
        #expect(F.matches("param:site", "not_in", ["z12"], F.visit()))
        #expect(!F.matches("param:site", "contains", ["z"], F.visit()))
        #expect(F.matches("param:site", "not_contains", ["z"], F.visit()))
        // Non-ASCII values and a long value searched (KMP's fall-backs).
        #expect(F.matches("param:q", "contains", ["GRÜN"], F.visit(parameters: [("q", "hellgrün")])))
        let long = String(repeating: "ab", count: 5_000) + "abac"
        #expect(F.matches("param:q", "contains", ["ababac"], F.visit(parameters: [("q", long)])))
        #expect(!F.matches("param:q", "contains", ["ababad"], F.visit(parameters: [("q", long)])))
    }

    @Test func unknownFieldsAndOpsNeverMatch() {
        #expect(!F.matches("city", "in", ["berlin"], F.visit()))
        #expect(!F.matches("city", "not_in", ["berlin"], F.visit()))
        #expect(!F.matches("country", "contains", ["d"], F.visit()))
        #expect(!F.matches("country", "equals", ["de"], F.visit()))
        #expect(F.matches("Country", "IN", ["de"], F.visit()))
        // Empty value lists: `in` nothing fails, `not_in` nothing passes.
        #expect(!F.matches("country", "in", [], F.visit()))
        #expect(F.matches("country", "not_in", [], F.visit()))
    }
}
