import Foundation
import WaymarkCore

/// What offers and landers share: a name, a page URL that takes the tracking tokens, a status
/// (a paused one is skipped by the flow).
enum FlowTargetFields {
    static func errors(name: String, url: String, status: String) -> [String: String] {
        var errors: [String: String] = [:]
        let name = name.trimmingCharacters(in: .whitespaces)
        if name.isEmpty { errors["name"] = "is required" } else if name.count > 200 { errors["name"] = "is longer than 200 characters" }
        if url.isEmpty {
            errors["url"] = "is required"
        } else if !URLCheck.isAbsoluteHTTP(url) || url.count > 4000 {
            errors["url"] = "must be an absolute http(s) URL (tokens such as {clickid} only after the host)"
        }
        if !Offer.statuses.contains(status) { errors["status"] = "must be active or paused" }
        return errors
    }
}
