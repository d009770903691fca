import Accounts
import Conversions
import Crypto
import Deliveries
import Foundation
import Postgres
import WaymarkCore
import Web

/// Facebook Ads (Meta) over the Graph API (protocols.md §3): Facebook Login's manual flow
/// with a long-lived token (no refresh grant: expiry means reconnecting), `/act_{id}/insights`
/// with daily increments and cursor paging, and the Conversions API.
public struct MetaProvider: Provider {
    public let key = "meta"
    public let name = "Facebook Ads (Meta)"
    public let summary = "Pulls spend, clicks and impressions by campaign, ad set and ad; pushes conversions to the Conversions API."
    public static let graph = "https://graph.facebook.com/v26.0"
    /// The Conversions API refuses events older than seven days (the whole request).
    public static let eventWindow: TimeInterval = 7 * 86400
    /// The app's credentials now (the environment's, else the Settings page's).
    public let apps: ProviderApps
    public var credentials: ProviderCredentials { apps.current() }
    public let http: ProviderHTTP

    public var isConfigured: Bool { credentials.metaAppID != nil && credentials.metaAppSecret != nil }

    public func authorizeURL(state: String, redirectURI: String, codeChallenge: String) -> String {
        "https://www.facebook.com/v26.0/dialog/oauth?"
            + URLEncoding.formString([
                ("client_id", credentials.metaAppID ?? ""), ("redirect_uri", redirectURI), ("state", state),
                ("response_type", "code"), ("scope", "ads_read,ads_management,business_management"),
            ])
    }

    public func exchange(code: String, redirectURI: String, codeVerifier: String) throws -> ProviderTokens {
        let app = [("client_id", credentials.metaAppID ?? ""), ("client_secret", credentials.metaAppSecret ?? "")]
        let short = try get("/oauth/access_token", app + [("redirect_uri", redirectURI), ("code", code)], as: MetaTokenAnswer.self)
        guard let shortToken = short.accessToken else {
            throw ProviderFailure(.rejected, "no access_token in Meta's answer")
        }
        let long = try get(
            "/oauth/access_token", [("grant_type", "fb_exchange_token")] + app + [("fb_exchange_token", shortToken)],
            as: MetaTokenAnswer.self)
        guard let token = long.accessToken else {
            throw ProviderFailure(.rejected, "no long-lived access_token in Meta's answer")
        }
        return ProviderTokens(
            accessToken: token, refreshToken: nil,
            expiresAt: long.expiresIn.map { Date().addingTimeInterval($0) })
    }

    /// A Graph GET; errors by their Graph code (190 = reconnect; 4, 17, 32, 613, 80004 = throttled).
    public func get<T: LenientDecodable>(_ path: String, _ query: [(String, String)], as type: T.Type) throws -> T {
        try checked(try http.send("GET", MetaProvider.graph + path + "?" + URLEncoding.formString(query)), as: type)
    }

    public func checked<T: LenientDecodable>(_ answer: ProviderAnswer, as type: T.Type) throws -> T {
        if let error = answer.shape(MetaErrorAnswer.self).error {
            throw MetaProvider.failure(error, status: answer.status)
        }
        guard (200..<300).contains(answer.status) else {
            throw ProviderFailure(answer.status >= 500 ? .temporary : .rejected, "Meta HTTP \(answer.status)")
        }
        return answer.shape(type)
    }

    public static func failure(_ error: MetaError, status: Int) -> ProviderFailure {
        let code = LenientNumber.int(error.code) ?? 0
        let kind: ProviderFailure.Kind =
            switch code {
            case 190, 102: .authorization
            case 4, 17, 32, 613, 80000...80099: .rateLimited
            case 1, 2: .temporary
            default: status >= 500 ? .temporary : .rejected
            }
        return ProviderFailure(kind, "Meta error \(code): \(error.message ?? "")")
    }

    public func accounts(_ context: IntegrationContext) throws -> [ProviderAccount] {
        var out: [ProviderAccount] = []
        var after: String?
        repeat {
            var query = [
                ("fields", "id,account_id,name,currency,account_status,timezone_name"), ("limit", "100"),
                ("access_token", context.accessToken),
            ]
            if let after { query.append(("after", after)) }
            let page = try get("/me/adaccounts", query, as: MetaPage<MetaAdAccount>.self)
            for a in page.data ?? [] {
                guard let id = a.id else { continue }
                out.append(ProviderAccount(id: id, name: a.name ?? id, currency: a.currency, timeZone: a.timezoneName))
            }
            after = page.paging?.next == nil ? nil : page.paging?.cursors?.after
        } while after != nil
        return out
    }

    public func pull(_ context: IntegrationContext, from: String, to: String) throws -> [MetricRow] {
        guard let account = context.account?.id else { throw ProviderFailure(.rejected, "no account selected") }
        var rows: [MetricRow] = []
        for (level, graphLevel) in [("campaign", "campaign"), ("ad_group", "adset"), ("ad", "ad")] {
            var next: String? =
                MetaProvider.graph + "/\(account)/insights?"
                + URLEncoding.formString([
                    ("level", graphLevel),
                    ("fields", "campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,spend,impressions,clicks,account_currency"),
                    ("time_range", "{\"since\":\"\(from)\",\"until\":\"\(to)\"}"), ("time_increment", "1"), ("limit", "500"),
                    ("access_token", context.accessToken),
                ])
            while let url = next {
                let page = try checked(try http.send("GET", url), as: MetaPage<MetaInsightsRow>.self)
                rows += (page.data ?? []).compactMap { MetaProvider.metricRow($0, level: level) }
                // paging.next is a graph.facebook.com URL; the origin map applies to it too.
                next = page.paging?.next
            }
        }
        return rows
    }

    /// An insights row as a metric row; nil without a day or a campaign id.
    public static func metricRow(_ d: MetaInsightsRow, level: String) -> MetricRow? {
        guard let day = d.dateStart, let campaign = d.campaignID else { return nil }
        var row = MetricRow(day: day, level: level, campaignID: campaign)
        row.campaignName = d.campaignName ?? ""
        if level != "campaign" {
            row.adGroupID = d.adsetID ?? ""
            row.adGroupName = d.adsetName ?? ""
        }
        if level == "ad" {
            row.adID = d.adID ?? ""
            row.adName = d.adName ?? ""
        }
        row.impressions = Int64(d.impressions ?? "0") ?? 0
        row.clicks = Int64(d.clicks ?? "0") ?? 0
        row.cost = d.spend ?? "0"
        return row
    }

    public func test(_ context: IntegrationContext) throws -> String {
        let app = "\(credentials.metaAppID ?? "")|\(credentials.metaAppSecret ?? "")"
        let debug = try get("/debug_token", [("input_token", context.accessToken), ("access_token", app)], as: MetaDebugToken.self)
        guard debug.data?.isValid == true else { throw ProviderFailure(.authorization, "Meta says the token is not valid") }
        let expires = debug.data?.expiresAt.map { RFC3339.string(from: Date(timeIntervalSince1970: $0)) } ?? "never"
        return "Token valid (expires \(expires)); \(try accounts(context).count) ad accounts reachable"
    }

    public func push(_ conversion: PushConversion, _ context: IntegrationContext) -> Result<PushRequest, ProviderFailure> {
        guard let pixel = context.settings["pixel_id"], ASCII.isDigits(pixel) else {
            return .failure(ProviderFailure(.rejected, "no pixel (dataset) id set"))
        }
        if Date().timeIntervalSince(conversion.convertedAt) > MetaProvider.eventWindow {
            return .failure(ProviderFailure(.rejected, "older than the Conversions API's 7-day window: not sent"))
        }
        let fbclid = (conversion.externalID ?? conversion.parameters["fbclid"]).flatMap { $0.isEmpty ? nil : $0 }
        let user = MetaEventsBody.UserData(
            clientIPAddress: conversion.ip, clientUserAgent: conversion.userAgent,
            fbc: fbclid.map { MetaProvider.fbc(fbclid: $0, clickedAt: conversion.clickedAt) },
            externalID: [Hex.encode(Array(SHA256.hash(data: Data(conversion.clickID.utf8))))])
        let event = MetaEventsBody.Event(
            eventName: conversion.providerAction, eventTime: Int(conversion.convertedAt.timeIntervalSince1970),
            eventID: String(conversion.conversionID),
            eventSourceURL: conversion.destination.isEmpty ? "https://localhost/" : conversion.destination, userData: user,
            customData: Double(conversion.payout).map { MetaEventsBody.CustomData(value: $0, currency: conversion.currency) })
        let code = context.settings["test_event_code"].flatMap { $0.isEmpty ? nil : $0 }
        let body = MetaEventsBody(data: [event], testEventCode: code)
        return Result { PushRequest(url: "\(MetaProvider.graph)/\(pixel)/events", body: try ProviderJSON.text(body)) }
            .mapError { ProviderFailure(.rejected, "\($0)") }
    }

    /// `fb.1.<click time ms>.<fbclid>`: the click-id cookie Meta's pixel would have set.
    public static func fbc(fbclid: String, clickedAt: Date) -> String {
        "fb.1.\(Int64(clickedAt.timeIntervalSince1970 * 1000)).\(fbclid)"
    }

    public func authorize(_ url: String, _ context: IntegrationContext) -> (url: String, headers: [(String, String)]) {
        (url + "?access_token=" + URLEncoding.encode(context.accessToken), [])
    }

    public func judgePush(status: Int, body: String) -> ProviderFailure? {
        if let error = ProviderJSON.shape(MetaErrorAnswer.self, from: body).error { return MetaProvider.failure(error, status: status) }
        guard (200..<300).contains(status) else { return ProviderFailure(status >= 500 ? .temporary : .rejected, "HTTP \(status)") }
        return nil
    }

    public func revoke(_ context: IntegrationContext) throws {
        _ = try http.send("DELETE", MetaProvider.graph + "/me/permissions?access_token=" + URLEncoding.encode(context.accessToken))
    }
}
