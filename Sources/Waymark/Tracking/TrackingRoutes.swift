import Addresses
import Foundation
import Tracking
import WaymarkCore
import Web

/// `GET|HEAD /c/{key}`, the click redirect (docs/tracking.md), and `POST /api/v1/clicks` for
/// server-side and landing-page tracking. The 302 leaves only once the click is durable.
struct TrackingRoutes {
    let shell: AdminShell
    let cache: CampaignCache
    let recorder: ClickRecorder
    let writer: ClickWriter
    let trustedProxies: IPRanges
    static let clickCookie = "wm_click"

    func register(on router: Router) {
        router.get("/c/{key}", click)
        router.post("/api/v1/clicks", shell.api(apiClick))
    }

    private func click(_ request: Request) throws -> Response {
        guard let key = request.parameters["key"], let campaign = cache.campaign(key: key) else {
            return .html(ErrorPage.html(status: 404, message: "This link is not active."), status: 404)
        }
        // A campaign on a flow has no destination URL, and the click path does not route flows
        // yet (issue 18): its link is not active rather than a redirect to nowhere.
        guard campaign.active && !campaign.destinationURL.isEmpty else {
            if let fallback = campaign.fallbackURL {
                return Response(status: 302, headers: [("Location", fallback), ("Cache-Control", "no-store")])
            }
            return .html(ErrorPage.html(status: 404, message: "This link is not active."), status: 404)
        }
        let visit = Visit(
            parameters: request.query, ip: clientAddress(request), userAgent: request.header("user-agent") ?? "",
            referrer: request.header("referer") ?? "", country: request.params["GEOIP_COUNTRY_CODE"] ?? "", at: request.receivedAt)
        let click = recorder.click(for: campaign, visit: visit)
        guard writer.record(click) else {
            throw HTTPError.unavailable("the click could not be stored; try again")
        }
        // The conversion pixel finds the click by this cookie (same site).
        let cookie = Cookie(name: TrackingRoutes.clickCookie, value: click.id, maxAge: 90 * 86400, secure: request.scheme == "https")
        return Response(
            status: 302, headers: [("Location", click.destination), ("Cache-Control", "no-store"), ("Set-Cookie", cookie.headerValue)])
    }

    private func apiClick(_ request: Request, _ actor: Actor) throws -> Response {
        let input = try ClickAPIInput(json: try request.jsonObject(), remoteAddress: request.remoteAddress)
        let key = input.campaignKey
        guard let campaign = cache.campaign(key: key), actor.canSee(workspace: campaign.workspaceID) else {
            throw HTTPError.notFound("no campaign with key \(key)")
        }
        try actor.requireEditable(workspace: campaign.workspaceID)
        guard campaign.active else { throw HTTPError.conflict("the campaign is paused") }
        guard !campaign.destinationURL.isEmpty else { throw HTTPError.conflict("the campaign's flow is not routed yet") }
        let click = recorder.click(
            for: campaign,
            visit: Visit(parameters: input.parameters, ip: input.ip, userAgent: input.userAgent, referrer: input.referrer, country: ""))
        guard writer.record(click) else { throw HTTPError.unavailable("the click could not be stored; try again") }
        return .json(ClickCreated(clickID: click.id, redirectURL: click.destination), status: 201)
    }

    /// nginx's REMOTE_ADDR, or the client before our trusted proxies in X-Forwarded-For.
    func clientAddress(_ request: Request) -> String {
        guard !trustedProxies.isEmpty, trustedProxies.contains(request.remoteAddress), let forwarded = request.header("x-forwarded-for")
        else {
            return request.remoteAddress
        }
        let hops = forwarded.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return hops.last { !trustedProxies.contains($0) } ?? request.remoteAddress
    }
}

/// The `POST /api/v1/clicks` answer.
struct ClickCreated: Encodable {
    var clickID: String
    var redirectURL: String
}
