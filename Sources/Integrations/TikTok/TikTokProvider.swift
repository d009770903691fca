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
    /// The app's credentials now (the environment's, else the Settings page's).
    public let apps: ProviderApps
    public var credentials: ProviderCredentials { apps.current() }
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
            "POST", "/oauth2/access_token/", as: TikTokToken.self,
            json: TikTokTokenRequest(appID: credentials.tiktokAppID ?? "", secret: credentials.tiktokAppSecret ?? "", authCode: code))
        guard let token = data.accessToken else { throw ProviderFailure(.rejected, "no access_token in TikTok's answer") }
        // Advertiser tokens do not expire until revoked.
        return ProviderTokens(accessToken: token, refreshToken: nil, expiresAt: nil)
    }

    /// One call; the envelope's `data`, or its code as the failure.
    public func call<T: LenientDecodable>(
        _ method: String, _ path: String, query: [(String, String)] = [], token: String? = nil, as type: T.Type,
        json: (any Encodable)? = nil
    ) throws -> T {
        let url = TikTokProvider.api + path + (query.isEmpty ? "" : "?" + URLEncoding.formString(query))
        let answer = try http.send(method, url, headers: token.map { [("Access-Token", $0)] } ?? [], json: json)
        let envelope = answer.shape(TikTokEnvelope<T>.self)
        if let failure = TikTokProvider.failure(answer.status, code: envelope.code, message: envelope.message) { throw failure }
        return envelope.data ?? T()
    }

    /// The failure an answer's status and envelope code stand for; nil for code 0.
    public static func failure(_ status: Int, code: Double?, message: String?) -> ProviderFailure? {
        guard (200..<300).contains(status) else { return ProviderFailure(status >= 500 ? .temporary : .rejected, "TikTok HTTP \(status)") }
        guard let code = LenientNumber.int(code) else {
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
        return ProviderFailure(kind, "TikTok code \(code): \(message ?? "")")
    }

    public func accounts(_ context: IntegrationContext) throws -> [ProviderAccount] {
        let list =
            try call(
                "GET", "/oauth2/advertiser/get/",
                query: [("app_id", credentials.tiktokAppID ?? ""), ("secret", credentials.tiktokAppSecret ?? "")],
                token: context.accessToken, as: TikTokList<TikTokAdvertiser>.self
            ).list ?? []
        let ids = list.compactMap(\.advertiserID)
        guard !ids.isEmpty else { return [] }
        let quoted = "[" + ids.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let info =
            (try? call(
                "GET", "/advertiser/info/", query: [("advertiser_ids", quoted)], token: context.accessToken,
                as: TikTokList<TikTokAdvertiser>.self))?.list ?? []
        return list.compactMap { a in
            guard let id = a.advertiserID else { return nil }
            let details = info.first { $0.advertiserID == id }
            return ProviderAccount(id: id, name: a.advertiserName ?? id, currency: details?.currency, timeZone: details?.timezone)
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
                let items = try report(
                    advertiser, dataLevel, dimensions: "[\"\(dimension)\",\"stat_time_day\"]",
                    metrics: "[\"spend\",\"impressions\",\"clicks\",\(names)]", start, end, token: context.accessToken)
                rows += items.compactMap { TikTokProvider.metricRow($0, level: level) }
            }
        }
        return rows
    }

    /// A report row as a metric row: the level's own id is a dimension, its parents' are metrics.
    public static func metricRow(_ item: TikTokReportItem, level: String) -> MetricRow? {
        let d = item.dimensions ?? .init(), m = item.metrics ?? .init()
        guard let day = d.statTimeDay?.prefix(10), let campaign = level == "campaign" ? d.campaignID : m.campaignID else { return nil }
        var row = MetricRow(day: String(day), level: level, campaignID: campaign)
        row.campaignName = m.campaignName ?? ""
        row.adGroupID = (level == "ad_group" ? d.adgroupID : m.adgroupID) ?? ""
        row.adGroupName = m.adgroupName ?? ""
        row.adID = level == "ad" ? d.adID ?? "" : ""
        row.adName = m.adName ?? ""
        row.impressions = Int64(m.impressions ?? "0") ?? 0
        row.clicks = Int64(m.clicks ?? "0") ?? 0
        row.cost = m.spend ?? "0"
        return row
    }

    /// Every page of one `report/integrated/get` query.
    public func report(
        _ advertiser: String, _ dataLevel: String, dimensions: String, metrics: String, _ start: String, _ end: String, token: String
    ) throws -> [TikTokReportItem] {
        var items: [TikTokReportItem] = []
        var page = 1, pages = 1
        repeat {
            let data = try call(
                "GET", "/report/integrated/get/",
                query: [
                    ("advertiser_id", advertiser), ("report_type", "BASIC"), ("data_level", dataLevel), ("dimensions", dimensions),
                    ("metrics", metrics), ("start_date", start), ("end_date", end), ("page", String(page)), ("page_size", "1000"),
                ], token: token, as: TikTokList<TikTokReportItem>.self)
            items += data.list ?? []
            pages = LenientNumber.int(data.pageInfo?.totalPage) ?? 1
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
        let ttclid = (conversion.externalID ?? conversion.parameters["ttclid"]).flatMap { $0.isEmpty ? nil : $0 }
        let event = TikTokEventsBody.Event(
            event: conversion.providerAction, eventTime: Int(conversion.convertedAt.timeIntervalSince1970),
            eventID: String(conversion.conversionID),
            user: .init(ip: conversion.ip, userAgent: conversion.userAgent, ttclid: ttclid),
            properties: .init(currency: conversion.currency, value: Double(conversion.payout), orderID: conversion.txid),
            page: .init(url: conversion.destination))
        let code = context.settings["test_event_code"].flatMap { $0.isEmpty ? nil : $0 }
        let body = TikTokEventsBody(eventSourceID: pixel, data: [event], testEventCode: code)
        return Result { PushRequest(url: TikTokProvider.api + "/event/track/", body: try ProviderJSON.text(body)) }
            .mapError { ProviderFailure(.rejected, "\($0)") }
    }

    public func authorize(_ url: String, _ context: IntegrationContext) -> (url: String, headers: [(String, String)]) {
        (url, [("Access-Token", context.accessToken)])
    }

    public func judgePush(status: Int, body: String) -> ProviderFailure? {
        let envelope = ProviderJSON.shape(TikTokEnvelope<TikTokNoData>.self, from: body)
        return TikTokProvider.failure(status, code: envelope.code, message: envelope.message)
    }

    public func revoke(_ context: IntegrationContext) throws {
        let body = TikTokTokenRequest(
            appID: credentials.tiktokAppID ?? "", secret: credentials.tiktokAppSecret ?? "", accessToken: context.accessToken)
        _ = try? call("POST", "/oauth2/revoke_token/", token: context.accessToken, as: TikTokNoData.self, json: body)
    }
}
