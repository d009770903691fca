// Target `click-json`: the JSON body of POST /api/v1/clicks, read as the route reads it
// (Request.jsonObject, then ClickAPIInput).
import Foundation
import Web

@testable import Waymark

@_cdecl("LLVMFuzzerTestOneInput") public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    Fuzz.run(data, size, warmUp: [#"{"campaign_key":"k","parameters":{"sub1":"a","n":2},"ip":"198.51.100.7"}"#]) { bytes in
        let request = Request(method: "POST", path: "/api/v1/clicks", headers: ["content-type": "application/json"], body: bytes)
        guard let object = try? request.jsonObject() else { return }
        let input: ClickAPIInput
        do throws(HTTPError) {
            input = try ClickAPIInput(json: object, remoteAddress: "203.0.113.9")
        } catch {
            Fuzz.require(error.status == 422 && !error.fields.isEmpty, "a refused body answers \(error.status) without fields")
            return
        }
        Fuzz.require(!input.campaignKey.isEmpty, "accepted without a campaign_key")
        Fuzz.require(input.campaignKey == object["campaign_key"] as? String, "campaign_key changed")
        Fuzz.require(
            input.ip == (object["ip"] as? String ?? (object["ip"] is NSNull ? "" : "203.0.113.9")),
            "ip is neither the body's nor the client's")
        let names = input.parameters.map(\.0)
        Fuzz.require(names == names.sorted(), "parameters are not sorted by name")
        Fuzz.require(Set(names).count == names.count, "a parameter name repeats")
        Fuzz.require(names.count == (object["parameters"] as? [String: Any])?.count ?? 0, "parameters were dropped")
    }
}
