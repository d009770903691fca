import Accounts
import Conversions
import Deliveries
import Foundation
import Postgres
import WaymarkCore
import Web

/// TikTok Ads over the Marketing API (protocols.md §5): advertiser authorization, reports from
/// `report/integrated/get`, and the Events API 2.0. Every answer is HTTP 200 with
/// `{code, message, data}`; a non-zero code is the error.
public struct TikTokProvider: Provider {
    public let key = "tiktok"
    public let name = "TikTok Ads"
    public let summary = "Pulls spend, clicks and impressions by campaign, ad group and ad; pushes conversions to the Events API by ttclid."
    public static let api = "https://business-api.tiktok.com/open_api/v1.3"
    public let credentials: ProviderCredentials
    public let http: ProviderHTTP

    public var isConfigured: Bool { credentials.tiktokAppID != nil && credentials.tiktokAppSecret != nil }

    public func authorizeURL(state: String, redirectURI: String, codeChallenge: String) -> String {
        "https://business-api.tiktok.com/portal/auth?"
            + URLEncoding.formString([
                ("app_id", credentials.tiktokAppID ?? ""), ("state", state), ("redirect_uri", redirectURI),
            ])
    }

    public func exchange(code: String, redirectURI: String, codeVerifier: String) throws -> ProviderTokens {
        let data = try call(
            "POST", "/oauth2/access_token/",
            json: ["app_id": credentials.tiktokAppID ?? "", "secret": credentials.tiktokAppSecret ?? "", "auth_code": code])
        guard let token = data["access_token"] as? String else { throw ProviderFailure(.rejected, "no access_token in TikTok's answer") }
        // Advertiser tokens do not expire until revoked.
        return ProviderTokens(accessToken: token, refreshToken: nil, expiresAt: nil)
    }

    /// One call; the envelope's `data`, or its code as the failure.
    public func call(_ method: String, _ path: String, query: [(String, String)] = [], token: String? = nil, json: Any? = nil) throws
        -> [String: Any]
    {
        let url = TikTokProvider.api + path + (query.isEmpty ? "" : "?" + URLEncoding.formString(query))
        let answer = try http.send(method, url, headers: token.map { [("Access-Token", $0)] } ?? [], json: json)
        if let failure = TikTokProvider.failure(answer.status, answer.object) { throw failure }
        return answer.object["data"] as? [String: Any] ?? [:]
    }

    public static func failure(_ status: Int, _ object: [String: Any]) -> ProviderFailure? {
        guard (200..<300).contains(status) else { return ProviderFailure(status >= 500 ? .temporary : .rejected, "TikTok HTTP \(status)") }
        guard let code = (object["code"] as? NSNumber)?.intValue else {
            return ProviderFailure(.temporary, "TikTok answered without a code")
        }
        if code == 0 { return nil }
        let kind: ProviderFailure.Kind =
            switch code {
            case 40102, 40104, 40105, 40106: .authorization
            case 40100, 40133: .rateLimited
            case 50000...59999: .temporary
            default: .rejected
            }
        return ProviderFailure(kind, "TikTok code \(code): \(object["message"] as? String ?? "")")
    }

    public func accounts(_ context: IntegrationContext) throws -> [ProviderAccount] {
        let list =
            try call(
                "GET", "/oauth2/advertiser/get/",
                query: [("app_id", credentials.tiktokAppID ?? ""), ("secret", credentials.tiktokAppSecret ?? "")],
                token: context.accessToken)["list"] as? [[String: Any]] ?? []
        let ids = list.compactMap { jsonText($0["advertiser_id"]) }
        guard !ids.isEmpty else { return [] }
        let quoted = "[" + ids.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let info =
            (try? call("GET", "/advertiser/info/", query: [("advertiser_ids", quoted)], token: context.accessToken))?["list"]
            as? [[String: Any]] ?? []
        return list.compactMap { a in
            guard let id = jsonText(a["advertiser_id"]) else { return nil }
            let details = info.first { jsonText($0["advertiser_id"]) == id }
            return ProviderAccount(
                id: id, name: a["advertiser_name"] as? String ?? id, currency: details?["currency"] as? String,
                timeZone: details?["timezone"] as? String)
        }
    }

    public func pull(_ context: IntegrationContext, from: String, to: String) throws -> [MetricRow] {
        guard let advertiser = context.account?.id else { throw ProviderFailure(.rejected, "no account selected") }
        let levels: [(String, String, String, String)] = [
            ("campaign", "AUCTION_CAMPAIGN", "campaign_id", "\"campaign_name\""),
            ("ad_group", "AUCTION_ADGROUP", "adgroup_id", "\"campaign_id\",\"campaign_name\",\"adgroup_name\""),
            ("ad", "AUCTION_AD", "ad_id", "\"campaign_id\",\"campaign_name\",\"adgroup_id\",\"adgroup_name\",\"ad_name\""),
        ]
        // Daily reports span at most 30 days a request.
        let days = daysBetween(from, to)
        let chunks = stride(from: 0, to: days.count, by: 30).map { (days[$0], days[min($0 + 29, days.count - 1)]) }
        var rows: [MetricRow] = []
        for (level, dataLevel, dimension, names) in levels {
            for (start, end) in chunks {
                for item in try report(
                    advertiser, dataLevel, dimensions: "[\"\(dimension)\",\"stat_time_day\"]",
                    metrics: "[\"spend\",\"impressions\",\"clicks\",\(names)]", start, end, token: context.accessToken)
                {
                    let d = item["dimensions"] as? [String: Any] ?? [:]
                    let m = item["metrics"] as? [String: Any] ?? [:]
                    guard let day = (d["stat_time_day"] as? String)?.prefix(10),
                        let campaign = level == "campaign" ? jsonText(d["campaign_id"]) : jsonText(m["campaign_id"])
                    else { continue }
                    var row = MetricRow(day: String(day), level: level, campaignID: campaign)
                    row.campaignName = m["campaign_name"] as? String ?? ""
                    row.adGroupID = (level == "ad_group" ? jsonText(d["adgroup_id"]) : jsonText(m["adgroup_id"])) ?? ""
                    row.adGroupName = m["adgroup_name"] as? String ?? ""
                    row.adID = level == "ad" ? jsonText(d["ad_id"]) ?? "" : ""
                    row.adName = m["ad_name"] as? String ?? ""
                    row.impressions = Int64(jsonText(m["impressions"]) ?? "0") ?? 0
                    row.clicks = Int64(jsonText(m["clicks"]) ?? "0") ?? 0
                    row.cost = jsonText(m["spend"]) ?? "0"
                    rows.append(row)
                }
            }
        }
        return rows
    }

    /// Every page of one `report/integrated/get` query.
    public func report(
        _ advertiser: String, _ dataLevel: String, dimensions: String, metrics: String, _ start: String, _ end: String, token: String
    ) throws -> [[String: Any]] {
        var items: [[String: Any]] = []
        var page = 1, pages = 1
        repeat {
            let data = try call(
                "GET", "/report/integrated/get/",
                query: [
                    ("advertiser_id", advertiser), ("report_type", "BASIC"), ("data_level", dataLevel), ("dimensions", dimensions),
                    ("metrics", metrics), ("start_date", start), ("end_date", end), ("page", String(page)), ("page_size", "1000"),
                ], token: token)
            items += data["list"] as? [[String: Any]] ?? []
            pages = ((data["page_info"] as? [String: Any])?["total_page"] as? NSNumber)?.intValue ?? 1
            page += 1
        } while page <= pages
        return items
    }

    public func test(_ context: IntegrationContext) throws -> String {
        let accounts = try accounts(context)
        if let id = context.account?.id, !accounts.contains(where: { $0.id == id }) {
            throw ProviderFailure(.authorization, "advertiser \(id) is no longer authorized")
        }
        return "Token valid; \(accounts.count) advertisers authorized"
    }

    public func push(_ conversion: PushConversion, _ context: IntegrationContext) -> Result<PushRequest, ProviderFailure> {
        guard let pixel = context.settings["pixel_code"], !pixel.isEmpty else {
            return .failure(ProviderFailure(.rejected, "no pixel code set"))
        }
        var user: [String: Any] = ["ip": conversion.ip, "user_agent": conversion.userAgent]
        if let ttclid = conversion.externalID ?? conversion.parameters["ttclid"], !ttclid.isEmpty { user["ttclid"] = ttclid }
        var properties: [String: Any] = ["currency": conversion.currency]
        if let value = Double(conversion.payout) { properties["value"] = value }
        if let txid = conversion.txid { properties["order_id"] = txid }
        var body: [String: Any] = [
            "event_source": "web", "event_source_id": pixel,
            "data": [
                [
                    "event": conversion.providerAction, "event_time": Int(conversion.convertedAt.timeIntervalSince1970),
                    "event_id": String(conversion.conversionID), "user": user, "properties": properties,
                    "page": ["url": conversion.destination],
                ] as [String: Any]
            ],
        ]
        if let code = context.settings["test_event_code"], !code.isEmpty { body["test_event_code"] = code }
        return Result {
            PushRequest(
                url: TikTokProvider.api + "/event/track/",
                body: String(
                    decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]),
                    as: UTF8.self))
        }
        .mapError { ProviderFailure(.rejected, "\($0)") }
    }

    public func authorize(_ url: String, _ context: IntegrationContext) -> (url: String, headers: [(String, String)]) {
        (url, [("Access-Token", context.accessToken)])
    }

    public func judgePush(status: Int, body: String) -> ProviderFailure? {
        TikTokProvider.failure(status, (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:])
    }

    public func revoke(_ context: IntegrationContext) throws {
        _ = try? call(
            "POST", "/oauth2/revoke_token/", token: context.accessToken,
            json: [
                "app_id": credentials.tiktokAppID ?? "", "secret": credentials.tiktokAppSecret ?? "", "access_token": context.accessToken,
            ])
    }
}
