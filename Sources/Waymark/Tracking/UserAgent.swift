import Foundation

/// A small table-driven user-agent reader: device type, OS, browser, and whether it is a bot.
/// (No parsing library is in the package list; the tables cover the traffic trackers see.)
public struct UserAgent: Sendable, Equatable {
    public var device: String
    public var os: String
    public var browser: String
    public var isBot: Bool

    static let botMarkers = [
        "bot", "crawl", "spider", "slurp", "headless", "phantomjs", "lighthouse", "curl/", "wget", "python-requests",
        "python-urllib", "go-http-client", "java/", "okhttp", "libwww", "httpclient", "facebookexternalhit", "preview",
        "scrapy", "node-fetch", "axios", "monitor", "pingdom", "uptime",
    ]
    static let osRules: [(String, String)] = [
        ("windows phone", "Windows Phone"), ("windows", "Windows"), ("iphone", "iOS"), ("ipad", "iOS"), ("ipod", "iOS"),
        ("cros", "ChromeOS"), ("android", "Android"), ("mac os x", "macOS"), ("macintosh", "macOS"), ("linux", "Linux"),
    ]
    static let browserRules: [(String, String)] = [
        ("edg/", "Edge"), ("edga/", "Edge"), ("edgios/", "Edge"), ("opr/", "Opera"), ("samsungbrowser/", "Samsung Internet"),
        ("yabrowser/", "Yandex"), ("ucbrowser/", "UC Browser"), ("fban", "Facebook"), ("fbav/", "Facebook"), ("instagram", "Instagram"),
        ("crios/", "Chrome"), ("chrome/", "Chrome"), ("fxios/", "Firefox"), ("firefox/", "Firefox"), ("safari/", "Safari"),
    ]

    public init(_ raw: String) {
        let ua = raw.lowercased()
        isBot = ua.trimmingCharacters(in: .whitespaces).isEmpty || UserAgent.botMarkers.contains { ua.contains($0) }
        os = UserAgent.osRules.first { ua.contains($0.0) }?.1 ?? ""
        browser = UserAgent.browserRules.first { ua.contains($0.0) }?.1 ?? ""
        if isBot {
            device = "bot"
        } else if ua.contains("ipad") || ua.contains("tablet") || (ua.contains("android") && !ua.contains("mobile")) {
            device = "tablet"
        } else if ua.contains("mobi") || ua.contains("iphone") || ua.contains("ipod") || ua.contains("windows phone") {
            device = "mobile"
        } else if ua.isEmpty {
            device = ""
        } else {
            device = "desktop"
        }
    }
}
