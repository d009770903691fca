import Accounts
import Catalog
import Conversions
import Deliveries
import Foundation
import Tracking
import WaymarkCore
import Web

/// `/postback` and `/pixel.gif` (docs/tracking.md), the conversions API, and the pages: conversions,
/// unattributed postbacks (attach to a click), a click's journey, conversion events, and the
/// postback tester of a campaign's Tracking tab.
struct ConversionRoutes {
    let shell: AdminShell
    /// `/postback` and `/pixel.gif` record through it: it spools them while the database is away.
    let replayer: PostbackReplayer
    let conversions: ConversionStore
    let clicks: ClickStore
    let postbacks: PostbackStore
    let events: ConversionEventStore
    let deliveries: DeliveryStore
    let campaigns: CampaignStore
    let sources: TrafficSourceStore
    let workspaces: WorkspaceStore
    let cache: CampaignCache
    /// The postback tester's test clicks.
    let clickRecorder: ClickRecorder
    let writer: ClickWriter
    let postbackOrigin: String

    var recorder: ConversionRecorder { replayer.recorder }

    /// A 1×1 transparent GIF.
    static let gif: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    func register(on router: Router) {
        router.get("/postback", postback)
        router.post("/postback", postback)
        router.get("/pixel.gif", pixel)
        router.add("HEAD", "/postback", ConversionRoutes.headPostback)
        router.add("HEAD", "/pixel.gif", ConversionRoutes.headPixel)
        router.get("/api/v1/conversions", shell.api(listConversions))
        router.get("/api/v1/clicks/{click_id}", shell.api(clickDetail))
        router.get("/conversions", shell.page(listPage))
        router.get("/conversions/unattributed", shell.page(unattributedPage))
        router.post("/postbacks/{id}/attach", shell.page(attach))
        router.get("/clicks/{click_id}", shell.page(journeyPage))
        router.post("/campaigns/{id}/postback-test", shell.page(postbackTest))
        router.get("/events", shell.page(eventsPage))
        router.post("/events", shell.page(saveEvent))
    }

    // MARK: tracking endpoints

    private func postback(_ request: Request) throws -> Response {
        let raw = ConversionRecorder.Raw(request, channel: "postback")
        let pairs: [(String, String)]
        let input: PostbackInput
        do {
            pairs = try PostbackInput.pairs(of: request)
            input = try PostbackInput(pairs)
        } catch {
            try recorder.reject(raw, error: error, clickID: request.queryValue("clickid"))
        }
        switch try replayer.record(input, pairs: pairs, raw: raw, checkSecret: true) {
        case .recorded(let result): return ConversionRoutes.answer(result)
        case .accepted: return ConversionRoutes.answer(["status": "accepted"], status: 202)
        case .unavailable:
            throw HTTPError(
                503, code: "unavailable", message: "the postback could not be stored; send it again later",
                headers: [("Retry-After", "5")])
        }
    }

    /// `/postback`'s answer: the outcome, and the conversion's id unless unattributed.
    static func answer(_ result: ConversionRecorder.Result) -> Response {
        switch result.outcome {
        case .unattributed: return answer(["status": "unattributed"], status: 202)
        case .forbidden:
            return .json(PostbackRefusal(message: "the workspace's postback secret is missing or wrong", field: "secret"), status: 403)
        default: return answer(["status": result.outcome.rawValue, "conversion_id": String(result.conversionID ?? 0)])
        }
    }

    /// Written by hand (JSONStringObject, the same bytes as JSONCoding's encoder for these
    /// values): JSONEncoder was half of the postback route's responder time.
    private static func answer(_ fields: [String: String], status: Int = 200) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")], body: Array(JSONStringObject.encode(fields).utf8))
    }

    /// HEAD would run GET's handler (and record a conversion for a link checker): not here.
    private static func headPostback(_ request: Request) throws -> Response {
        throw HTTPError.methodNotAllowed(["GET", "POST"])
    }

    private static func headPixel(_ request: Request) throws -> Response {
        Response(status: 200, headers: [("Content-Type", "image/gif"), ("Cache-Control", "no-store")])
    }

    /// The pixel takes only these from its query; the click comes from the cookie alone, so a
    /// page that learned a click id cannot record, reverse or re-price its conversions.
    static let pixelFields: Set<String> = ["event", "payout", "txid", "currency"]

    private func pixel(_ request: Request) throws -> Response {
        var pairs = request.query.filter { ConversionRoutes.pixelFields.contains($0.0) }
        if let click = request.cookies[TrackingRoutes.clickCookie], !click.isEmpty { pairs.append(("clickid", click)) }
        let raw = ConversionRecorder.Raw(request, channel: "pixel")
        let gif = Response(
            status: 200, headers: [("Content-Type", "image/gif"), ("Cache-Control", "no-store")], body: ConversionRoutes.gif)
        let input: PostbackInput
        do {
            input = try PostbackInput(pairs, requireClickID: false)
        } catch {
            _ = try? recorder.reject(raw, error: error, clickID: request.cookies[TrackingRoutes.clickCookie])
            return gif
        }
        // The page gets its GIF whatever happened (spooled while the database is away).
        _ = try? replayer.record(input, pairs: pairs, raw: raw, checkSecret: false, requireClickID: false)
        return gif
    }

    // MARK: API

    private func listConversions(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = try ConversionFilter(request, defaultDays: 30)
        let paging = try Paging(request)
        let rows = try conversions.list(filter: filter, for: actor, after: paging.after, limit: paging.limit + 1)
        let page = Array(rows.prefix(paging.limit))
        return .json(Page(data: page, nextCursor: rows.count > paging.limit ? String(page.last!.id) : nil))
    }

    private func clickDetail(_ request: Request, _ actor: Actor) throws -> Response {
        let click = try clicks.get(request.parameters["click_id"] ?? "", for: actor)
        return .json(ClickDetail(click: click, conversions: try conversions.forClick(click.id)))
    }
}

/// `/postback`'s 403: `{"error":{"code":"forbidden","message":…,"field":…}}`, as the API's errors read.
struct PostbackRefusal: Encodable {
    struct Detail: Encodable {
        var code = "forbidden"
        var message: String
        var field: String
    }

    var error: Detail

    init(message: String, field: String) { error = Detail(message: message, field: field) }
}
