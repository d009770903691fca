import Addresses
import Foundation
import WaymarkCore

/// What a flow's rules test of one visit (SPEC §9), lower-cased once so that matching compares
/// without converting. An empty value is a missing one: it fails `in`/`contains` and passes
/// `not_in`/`not_contains`.
public struct FlowVisit: Sendable {
    /// ISO country code from nginx's GeoIP (`--` and `-` mean unknown).
    public var country: String
    /// `desktop`, `mobile`, `tablet` or `bot`.
    public var device: String
    public var os: String
    public var browser: String
    /// The primary subtag of the first `Accept-Language` entry (`de-AT,de;q=0.9` → `de`).
    public var language: String
    /// The address as 16 bytes (IPv4 as IPv4-mapped IPv6); nil when it does not parse.
    public var ipBytes: [UInt8]?
    /// The Referer's host without port and without a leading `www.` (see `referrerDomain(_:)`).
    public var referrerDomain: String
    /// Query parameters, names and values lower-cased, in request order (the first of a name wins).
    public var parameters: [(name: String, value: String)]
    /// 0 = Monday … 6 = Sunday, in the workspace's zone.
    public var weekday: Int
    /// 0 … 23, in the workspace's zone.
    public var hour: Int

    /// The visit from the request's raw values. `isBot` adds what the user agent does not
    /// show (the bot address list): either makes the device `bot`.
    public init(
        country: String, userAgent: UserAgent, isBot: Bool = false, acceptLanguage: String, ip: String, referrer: String,
        parameters: [(String, String)], at: Date, timeZone: TimeZone
    ) {
        let code = country.trimmingSpaces
        self.country = code == "--" || code == "-" ? "" : code.lowercased()
        device = userAgent.isBot || isBot ? "bot" : userAgent.device.lowercased()
        os = userAgent.os.lowercased()
        browser = userAgent.browser.lowercased()
        language = FlowVisit.primaryLanguage(acceptLanguage)
        ipBytes = IPRanges.parse(ip.trimmingSpaces)?.0
        referrerDomain = FlowVisit.referrerDomain(referrer)
        self.parameters = parameters.map { (name: $0.0.lowercased(), value: $0.1.lowercased()) }
        (weekday, hour) = FlowVisit.weekdayAndHour(at: at, in: timeZone)
    }

    /// The value a text rule tests; nil when the visit has none.
    func value(of field: FlowVisitField) -> String? {
        let text: String
        switch field {
        case .country: text = country
        case .device: text = device
        case .os: text = os
        case .browser: text = browser
        case .language: text = language
        case .referrerDomain: text = referrerDomain
        case .parameter(let name):
            guard let hit = parameters.first(where: { $0.name == name }) else { return nil }
            text = hit.value
        }
        return text.isEmpty ? nil : text
    }

    /// `de-AT,de;q=0.9` → `de`; `*` and an empty header → empty. The first entry, not the one
    /// with the highest q (SPEC §9 says "the first").
    public static func primaryLanguage(_ header: String) -> String {
        guard let entry = header.split(separator: ",").first(where: { !$0.allSatisfy(\.isWhitespace) }) else { return "" }
        let tag = entry.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let primary = tag.trimmingCharacters(in: .whitespaces).split(separator: "-", maxSplits: 1).first ?? ""
        let code = primary.split(separator: "_", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        return code == "*" ? "" : code
    }

    /// The Referer's host, lower case, without user info, port, trailing dot and one leading
    /// `www.`: `https://WWW.News.example:8443/a?b` → `news.example`. Dropping `www.` lets a rule
    /// `referrer_domain in [news.example]` take both forms (rule values are normalized alike).
    public static func referrerDomain(_ referrer: String) -> String {
        var rest = Substring(referrer.trimmingCharacters(in: .whitespaces))
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
        } else if rest.hasPrefix("//") {
            rest = rest.dropFirst(2)
        }
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            rest = rest[rest.index(after: rest.startIndex)..<close]
        } else if let colon = rest.lastIndex(of: ":") {
            rest = rest[..<colon]
        }
        return normalizedDomain(rest)
    }

    /// Lower case, no trailing dot, no leading `www.`: for the visit's host and rule values.
    static func normalizedDomain(_ host: some StringProtocol) -> String {
        var domain = host.lowercased()
        if domain.hasSuffix(".") { domain.removeLast() }
        if domain.hasPrefix("www.") { domain.removeFirst(4) }
        return domain
    }

    /// Weekday (0 = Monday) and hour of `date` in `zone`, from the zone's offset at that instant
    /// (so right on both sides of a DST change) and no Calendar: this runs per click.
    public static func weekdayAndHour(at date: Date, in zone: TimeZone) -> (weekday: Int, hour: Int) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + zone.secondsFromGMT(for: date)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        // 1970-01-01 was a Thursday (3 when Monday is 0).
        return (weekday: floorDivision(days + 3, 7).1, hour: secondOfDay / 3_600)
    }

    private static func floorDivision(_ a: Int, _ b: Int) -> (Int, Int) {
        let r = a % b
        return r < 0 ? (a / b - 1, r + b) : (a / b, r)
    }
}

/// A text field a rule tests (`param:NAME` with its name lower-cased).
enum FlowVisitField: Sendable, Equatable {
    case country, device, os, browser, language, referrerDomain
    case parameter(String)
}
