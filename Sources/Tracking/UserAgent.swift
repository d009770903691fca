import Foundation
import WaymarkCore
import Web

/// A small table-driven user-agent reader: device type, OS, browser, and whether it is a bot.
/// (No parsing library is in the package list; the tables cover the traffic trackers see.)
public struct UserAgent: Sendable, Equatable {
    public var device: String
    public var os: String
    public var browser: String
    public var isBot: Bool

    public static let botMarkers = [
        "bot", "crawl", "spider", "slurp", "headless", "phantomjs", "lighthouse", "curl/", "wget", "python-requests",
        "python-urllib", "go-http-client", "java/", "okhttp", "libwww", "httpclient", "facebookexternalhit", "preview",
        "scrapy", "node-fetch", "axios", "monitor", "pingdom", "uptime",
    ]
    public static let osRules: [(String, String)] = [
        ("windows phone", "Windows Phone"), ("windows", "Windows"), ("iphone", "iOS"), ("ipad", "iOS"), ("ipod", "iOS"),
        ("cros", "ChromeOS"), ("android", "Android"), ("mac os x", "macOS"), ("macintosh", "macOS"), ("linux", "Linux"),
    ]
    public static let browserRules: [(String, String)] = [
        ("edg/", "Edge"), ("edga/", "Edge"), ("edgios/", "Edge"), ("opr/", "Opera"), ("samsungbrowser/", "Samsung Internet"),
        ("yabrowser/", "Yandex"), ("ucbrowser/", "UC Browser"), ("fban", "Facebook"), ("fbav/", "Facebook"), ("instagram", "Instagram"),
        ("crios/", "Chrome"), ("chrome/", "Chrome"), ("fxios/", "Firefox"), ("firefox/", "Firefox"), ("safari/", "Safari"),
    ]

    /// The tables' needles, each prepared once for the byte search.
    static let botPatterns = botMarkers.map { ByteSearch.Pattern(Array($0.utf8)) }
    static let osPatterns = osRules.map { (ByteSearch.Pattern(Array($0.0.utf8)), $0.1) }
    static let browserPatterns = browserRules.map { (ByteSearch.Pattern(Array($0.0.utf8)), $0.1) }
    static let devicePatterns = Dictionary(
        uniqueKeysWithValues: ["ipad", "tablet", "android", "mobile", "mobi", "iphone", "ipod", "windows phone"].map {
            ($0, ByteSearch.Pattern(Array($0.utf8)))
        })

    public init(_ raw: String) {
        // Lower-cased ASCII bytes and a byte search: this runs on every click not in the cache.
        let ua = Array(raw.utf8.lazy.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
        func has(_ pattern: ByteSearch.Pattern) -> Bool { pattern.firstIndex(in: ua) != nil }
        func has(_ name: String) -> Bool { UserAgent.devicePatterns[name].map(has) ?? false }
        isBot = raw.trimmingCharacters(in: .whitespaces).isEmpty || UserAgent.botPatterns.contains { has($0) }
        os = UserAgent.osPatterns.first { has($0.0) }?.1 ?? ""
        browser = UserAgent.browserPatterns.first { has($0.0) }?.1 ?? ""
        if isBot {
            device = "bot"
        } else if has("ipad") || has("tablet") || (has("android") && !has("mobile")) {
            device = "tablet"
        } else if has("mobi") || has("iphone") || has("ipod") || has("windows phone") {
            device = "mobile"
        } else {
            device = "desktop"
        }
    }
}
