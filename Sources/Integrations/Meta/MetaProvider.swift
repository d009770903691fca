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
    public let credentials: ProviderCredentials
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
        let short = try get("/oauth/access_token", app + [("redirect_uri", redirectURI), ("code", code)])
        guard let shortToken = short["access_token"] as? String else {
            throw ProviderFailure(.rejected, "no access_token in Meta's answer")
        }
        let long = try get("/oauth/access_token", [("grant_type", "fb_exchange_token")] + app + [("fb_exchange_token", shortToken)])
        guard let token = long["access_token"] as? String else {
            throw ProviderFailure(.rejected, "no long-lived access_token in Meta's answer")
        }
        return ProviderTokens(
            accessToken: token, refreshToken: nil,
            expiresAt: (long["expires_in"] as? NSNumber).map { Date().addingTimeInterval($0.doubleValue) })
    }

    /// A Graph GET; errors by their Graph code (190 = reconnect; 4, 17, 32, 613, 80004 = throttled).
    public func get(_ path: String, _ query: [(String, String)]) throws -> [String: Any] {
        try checked(try http.send("GET", MetaProvider.graph + path + "?" + URLEncoding.formString(query)))
    }

    public func checked(_ answer: ProviderAnswer) throws -> [String: Any] {
        if let error = answer.object["error"] as? [String: Any] {
            throw MetaProvider.failure(error, status: answer.status)
        }
        guard (200..<300).contains(answer.status) else {
            throw ProviderFailure(answer.status >= 500 ? .temporary : .rejected, "Meta HTTP \(answer.status)")
        }
        return answer.object
    }

    public static func failure(_ error: [String: Any], status: Int) -> ProviderFailure {
        let code = (error["code"] as? NSNumber)?.intValue ?? 0
        let kind: ProviderFailure.Kind =
            switch code {
            case 190, 102: .authorization
            case 4, 17, 32, 613, 80000...80099: .rateLimited
            case 1, 2: .temporary
            default: status >= 500 ? .temporary : .rejected
            }
        return ProviderFailure(kind, "Meta error \(code): \(error["message"] as? String ?? "")")
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
            let page = try get("/me/adaccounts", query)
            for a in page["data"] as? [[String: Any]] ?? [] {
                guard let id = a["id"] as? String else { continue }
                out.append(
                    ProviderAccount(
                        id: id, name: a["name"] as? String ?? id, currency: a["currency"] as? String,
                        timeZone: a["timezone_name"] as? String))
            }
            let paging = page["paging"] as? [String: Any]
            after = paging?["next"] == nil ? nil : (paging?["cursors"] as? [String: Any])?["after"] as? String
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
                let page = try checked(try http.send("GET", url))
                for d in page["data"] as? [[String: Any]] ?? [] {
                    guard let day = d["date_start"] as? String, let campaign = jsonText(d["campaign_id"]) else { continue }
                    var row = MetricRow(day: day, level: level, campaignID: campaign)
                    row.campaignName = d["campaign_name"] as? String ?? ""
                    if level != "campaign" {
                        row.adGroupID = jsonText(d["adset_id"]) ?? ""
                        row.adGroupName = d["adset_name"] as? String ?? ""
                    }
                    if level == "ad" {
                        row.adID = jsonText(d["ad_id"]) ?? ""
                        row.adName = d["ad_name"] as? String ?? ""
                    }
                    row.impressions = Int64(jsonText(d["impressions"]) ?? "0") ?? 0
                    row.clicks = Int64(jsonText(d["clicks"]) ?? "0") ?? 0
                    row.cost = jsonText(d["spend"]) ?? "0"
                    rows.append(row)
                }
                // paging.next is a graph.facebook.com URL; the origin map applies to it too.
                next = (page["paging"] as? [String: Any])?["next"] as? String
            }
        }
        return rows
    }

    public func test(_ context: IntegrationContext) throws -> String {
        let app = "\(credentials.metaAppID ?? "")|\(credentials.metaAppSecret ?? "")"
        let debug = try get("/debug_token", [("input_token", context.accessToken), ("access_token", app)])
        let data = debug["data"] as? [String: Any] ?? [:]
        guard data["is_valid"] as? Bool == true else { throw ProviderFailure(.authorization, "Meta says the token is not valid") }
        let expires = (data["expires_at"] as? NSNumber).map { RFC3339.string(from: Date(timeIntervalSince1970: $0.doubleValue)) } ?? "never"
        return "Token valid (expires \(expires)); \(try accounts(context).count) ad accounts reachable"
    }

    public func push(_ conversion: PushConversion, _ context: IntegrationContext) -> Result<PushRequest, ProviderFailure> {
        guard let pixel = context.settings["pixel_id"], ASCII.isDigits(pixel) else {
            return .failure(ProviderFailure(.rejected, "no pixel (dataset) id set"))
        }
        if Date().timeIntervalSince(conversion.convertedAt) > MetaProvider.eventWindow {
            return .failure(ProviderFailure(.rejected, "older than the Conversions API's 7-day window: not sent"))
        }
        var user: [String: Any] = ["client_ip_address": conversion.ip, "client_user_agent": conversion.userAgent]
        if let fbclid = conversion.externalID ?? conversion.parameters["fbclid"], !fbclid.isEmpty {
            user["fbc"] = MetaProvider.fbc(fbclid: fbclid, clickedAt: conversion.clickedAt)
        }
        user["external_id"] = [Hex.encode(Array(SHA256.hash(data: Data(conversion.clickID.utf8))))]
        var event: [String: Any] = [
            "event_name": conversion.providerAction, "event_time": Int(conversion.convertedAt.timeIntervalSince1970),
            "event_id": String(conversion.conversionID), "action_source": "website",
            "event_source_url": conversion.destination.isEmpty ? "https://localhost/" : conversion.destination,
            "user_data": user,
        ]
        if let value = Double(conversion.payout) { event["custom_data"] = ["value": value, "currency": conversion.currency] }
        var body: [String: Any] = ["data": [event]]
        if let code = context.settings["test_event_code"], !code.isEmpty { body["test_event_code"] = code }
        return Result {
            PushRequest(
                url: "\(MetaProvider.graph)/\(pixel)/events",
                body: String(
                    decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]),
                    as: UTF8.self))
        }
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
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        if let error = object["error"] as? [String: Any] { return MetaProvider.failure(error, status: status) }
        guard (200..<300).contains(status) else { return ProviderFailure(status >= 500 ? .temporary : .rejected, "HTTP \(status)") }
        return nil
    }

    public func revoke(_ context: IntegrationContext) throws {
        _ = try http.send("DELETE", MetaProvider.graph + "/me/permissions?access_token=" + URLEncoding.encode(context.accessToken))
    }
}
