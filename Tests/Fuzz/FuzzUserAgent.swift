// Target `user-agent`: the User-Agent reader on every click (UserAgent).
@testable import Waymark

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(data, size, warmUp: ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"]) { bytes in
        let raw = String(decoding: bytes, as: UTF8.self)
        let ua = UserAgent(raw)
        Fuzz.require(["bot", "tablet", "mobile", "desktop"].contains(ua.device), "device \(ua.device)")
        Fuzz.require(ua.isBot == (ua.device == "bot"), "isBot and device disagree")
        Fuzz.require(ua.os.isEmpty || UserAgent.osRules.contains { $0.1 == ua.os }, "os \(ua.os)")
        Fuzz.require(ua.browser.isEmpty || UserAgent.browserRules.contains { $0.1 == ua.browser }, "browser \(ua.browser)")

        // Matching ignores ASCII case.
        let upper = String(decoding: raw.utf8.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 }, as: UTF8.self)
        Fuzz.require(UserAgent(upper) == ua, "upper-casing changed the reading")
    }
}
