import Addresses
import Foundation
import Tracking
import WaymarkCore
import Web

/// `GET|HEAD /c/{key}`, the click redirect (docs/tracking.md), `GET /click` and `/click/{n}`,
/// a lander's click-through to an offer, and `POST /api/v1/clicks` for server-side and
/// landing-page tracking. A 302 leaves only once the click (or click-through) is durable.
struct TrackingRoutes {
    let shell: AdminShell
    let cache: CampaignCache
    let recorder: ClickRecorder
    let writer: ClickWriter
    let landerClicks: LanderClicks
    let trustedProxies: IPRanges
    static let clickCookie = "wm_click"

    func register(on router: Router) {
        router.get("/c/{key}", click)
        router.get("/click", clickThrough)
        router.get("/click/{n}", clickThrough)
        router.post("/api/v1/clicks", shell.api(apiClick))
    }

    private static func notActive() -> Response {
        .html(ErrorPage.html(status: 404, message: "This link is not active."), status: 404)
    }

    private func click(_ request: Request) throws -> Response {
        guard let key = request.parameters["key"], let campaign = cache.campaign(key: key) else { return TrackingRoutes.notActive() }
        guard campaign.active else {
            if let fallback = campaign.fallbackURL {
                return Response(status: 302, headers: [("Location", fallback), ("Cache-Control", "no-store")])
            }
            return TrackingRoutes.notActive()
        }
        let visit = Visit(
            parameters: request.query, ip: clientAddress(request), userAgent: request.header("user-agent") ?? "",
            referrer: request.header("referer") ?? "", country: request.params["GEOIP_COUNTRY_CODE"] ?? "",
            acceptLanguage: request.header("accept-language") ?? "", at: TrackingRoutes.clickTime(request),
            requestID: request.params["REQUEST_ID"])
        let click = recorder.click(for: campaign, visit: visit, caps: cache.caps)
        // A flow with no path that can take the click, and no fallback URL: nowhere to send it.
        guard !click.destination.isEmpty else { return TrackingRoutes.notActive() }
        // The conversion pixel finds the click by this cookie (same site).
        let cookie = Cookie(name: TrackingRoutes.clickCookie, value: click.id, maxAge: 90 * 86400, secure: request.scheme == "https")
        let redirect = Response(
            status: 302, headers: [("Location", click.destination), ("Cache-Control", "no-store"), ("Set-Cookie", cookie.headerValue)])
        return stored(click, answer: redirect)
    }

    static let notStored = HTTPError.unavailable("the click could not be stored; try again")

    /// When nginx took the request (`REQUEST_MSEC`, its `$msec`, the same if it sends the click
    /// to a second responder), unless that is not within five minutes of the responder's clock.
    static func clickTime(_ request: Request) -> Date {
        guard let text = request.params["REQUEST_MSEC"], text.utf8.count <= 20, let seconds = Double(text),
            abs(seconds - request.receivedAt.timeIntervalSince1970) <= 300
        else { return request.receivedAt }
        return Date(timeIntervalSince1970: seconds)
    }

    /// The answer, sent (by the click writer's thread) once the click is durable, else a 503;
    /// a click sent to a lander is kept in memory for its click-through.
    private func stored(_ click: Click, answer: Response) -> Response {
        answer.waiting(
            for: { [writer, landerClicks] done in
                writer.record(click) { stored in
                    if stored && click.landerID != nil { landerClicks.recent.remember(click) }
                    done(stored)
                }
            }, failure: TrackingRoutes.notStored)
    }

    /// The lander's link: the click by `cid`, else the `wm_click` cookie (SPEC §3).
    private func clickThrough(_ request: Request) throws -> Response {
        var number: Int?
        if let n = request.parameters["n"] {
            guard let parsed = Int(n), (1...1000).contains(parsed) else { return TrackingRoutes.notActive() }
            number = parsed
        }
        let cid = request.queryValue("cid").flatMap { $0.isEmpty ? nil : $0 } ?? request.cookies[TrackingRoutes.clickCookie]
        guard let cid, cid.utf8.count <= 64 else { return TrackingRoutes.notActive() }
        switch landerClicks.resolve(clickID: cid, number: number, at: request.receivedAt) {
        case .notFound: return TrackingRoutes.notActive()
        case .fallback(let url), .direct(let url):
            return Response(status: 302, headers: [("Location", url), ("Cache-Control", "no-store")])
        case .offer(let url, let through):
            // As a click's: the 302 leaves once the click-through is durable.
            return Response(status: 302, headers: [("Location", url), ("Cache-Control", "no-store")]).waiting(
                for: { [writer] done in writer.record(through, then: done) },
                failure: .unavailable("the click-through could not be stored; try again"))
        }
    }

    private func apiClick(_ request: Request, _ actor: Actor) throws -> Response {
        let input = try ClickAPIInput(json: try request.jsonObject(), remoteAddress: request.remoteAddress)
        let key = input.campaignKey
        guard let campaign = cache.campaign(key: key), actor.canSee(workspace: campaign.workspaceID) else {
            throw HTTPError.notFound("no campaign with key \(key)")
        }
        try actor.requireEditable(workspace: campaign.workspaceID)
        guard campaign.active else { throw HTTPError.conflict("the campaign is paused") }
        let click = recorder.click(
            for: campaign,
            visit: Visit(parameters: input.parameters, ip: input.ip, userAgent: input.userAgent, referrer: input.referrer, country: ""),
            caps: cache.caps)
        guard !click.destination.isEmpty else { throw HTTPError.conflict("the campaign's flow has no offer available for this click") }
        return stored(click, answer: .json(ClickCreated(clickID: click.id, redirectURL: click.destination), status: 201))
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
