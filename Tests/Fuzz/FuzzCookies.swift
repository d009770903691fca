// Target `cookies`: the Cookie header (Web's Request.cookies).
import Foundation

@testable import Web

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(data, size, warmUp: ["wm_session=abc; wm_click=def"]) { bytes in
        let header = String(decoding: bytes, as: UTF8.self)
        let cookies = Request(method: "GET", path: "/", headers: ["cookie": header]).cookies

        let separators = header.utf8.count { $0 == UInt8(ascii: ";") }
        Fuzz.require(cookies.count <= separators + 1, "\(cookies.count) cookies from \(separators) separators")
        for (name, value) in cookies {
            Fuzz.require(!name.utf8.contains(UInt8(ascii: ";")) && !value.utf8.contains(UInt8(ascii: ";")), "a cookie kept a ';'")
            Fuzz.require(!name.utf8.contains(UInt8(ascii: "=")), "a cookie name kept its '='")
        }

        // The cookies, sent again as one header, read back the same.
        let again = Request(method: "GET", path: "/", headers: ["cookie": cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")])
            .cookies
        Fuzz.require(again == cookies, "cookies changed on a second reading: \(cookies) → \(again)")
    }
}
