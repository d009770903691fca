import Conversions
import Deliveries
import Foundation
import Postgres
import WaymarkCore
import Web

/// Google Ads over its REST API (protocols.md §1–2): OAuth web-server flow with PKCE,
/// `googleAds:searchStream` with GAQL, `uploadClickConversions` (or the Data Manager API).
public struct GoogleAdsProvider: Provider {
    public let key = "google_ads"
    public let name = "Google Ads"
    public let summary = "Pulls cost, clicks and impressions by campaign, ad group, ad and keyword; pushes conversions by gclid."
    public static let version = "v26"
    public static let api = "https://googleads.googleapis.com/\(version)"
    public let credentials: ProviderCredentials
    public let http: ProviderHTTP

    public var isConfigured: Bool { credentials.googleClientID != nil && credentials.googleClientSecret != nil }

    public func authorizeURL(state: String, redirectURI: String, codeChallenge: String) -> String {
        "https://accounts.google.com/o/oauth2/v2/auth?"
            + URLEncoding.formString([
                ("client_id", credentials.googleClientID ?? ""), ("redirect_uri", redirectURI), ("response_type", "code"),
                // adwords for the Ads API, datamanager for the newer conversion ingestion.
                ("scope", "https://www.googleapis.com/auth/adwords https://www.googleapis.com/auth/datamanager"),
                ("access_type", "offline"), ("prompt", "consent"),
                ("include_granted_scopes", "true"), ("state", state), ("code_challenge", codeChallenge), ("code_challenge_method", "S256"),
            ])
    }

    public func exchange(code: String, redirectURI: String, codeVerifier: String) throws -> ProviderTokens {
        try token([
            ("code", code), ("client_id", credentials.googleClientID ?? ""), ("client_secret", credentials.googleClientSecret ?? ""),
            ("redirect_uri", redirectURI), ("grant_type", "authorization_code"), ("code_verifier", codeVerifier),
        ])
    }

    public func refresh(_ refreshToken: String) throws -> ProviderTokens? {
        var tokens = try token([
            ("client_id", credentials.googleClientID ?? ""), ("client_secret", credentials.googleClientSecret ?? ""),
            ("refresh_token", refreshToken), ("grant_type", "refresh_token"),
        ])
        if tokens.refreshToken == nil { tokens.refreshToken = refreshToken }
        return tokens
    }

    private func token(_ form: [(String, String)]) throws -> ProviderTokens {
        let answer = try http.send("POST", "https://oauth2.googleapis.com/token", form: form)
        guard answer.status == 200, let access = answer.object["access_token"] as? String else {
            let error = answer.object["error"] as? String ?? "HTTP \(answer.status)"
            let text = "\(error): \(answer.object["error_description"] as? String ?? "")"
            throw ProviderFailure(
                error == "invalid_grant" || error == "invalid_client" ? .authorization : GoogleAdsProvider.kind(answer.status), text)
        }
        let expires = (answer.object["expires_in"] as? NSNumber).map { Date().addingTimeInterval($0.doubleValue) }
        return ProviderTokens(accessToken: access, refreshToken: answer.object["refresh_token"] as? String, expiresAt: expires)
    }

    public func headers(_ context: IntegrationContext) -> [(String, String)] {
        var h = [("Authorization", "Bearer " + context.accessToken)]
        if let token = credentials.googleDeveloperToken { h.append(("developer-token", token)) }
        if let login = context.settings["login_customer_id"], !login.isEmpty { h.append(("login-customer-id", ASCII.digits(login))) }
        return h
    }

    public static func kind(_ status: Int) -> ProviderFailure.Kind {
        switch status {
        case 401: .authorization
        case 429: .rateLimited
        case 500...: .temporary
        default: .rejected
        }
    }

    /// The answer's JSON, or the Google Ads error it carries.
    public func checked(_ answer: ProviderAnswer) throws -> Any? {
        guard (200..<300).contains(answer.status) else {
            let error = answer.object["error"] as? [String: Any]
            let detail = ((error?["details"] as? [[String: Any]])?.first?["errors"] as? [[String: Any]])?.first
            let code =
                (detail?["errorCode"] as? [String: Any])?.map { "\($0.key): \($0.value)" }.first ?? (error?["status"] as? String ?? "")
            throw ProviderFailure(
                GoogleAdsProvider.kind(answer.status),
                "Google Ads \(answer.status) \(code) \(error?["message"] as? String ?? answer.text.prefix(200).description)")
        }
        return answer.json
    }

    /// Every result row of a GAQL query over searchStream (an array of batches).
    public func search(_ customer: String, _ query: String, _ context: IntegrationContext) throws -> [[String: Any]] {
        let answer = try http.send(
            "POST", "\(GoogleAdsProvider.api)/customers/\(customer)/googleAds:searchStream", headers: headers(context),
            json: ["query": query])
        let batches = try checked(answer) as? [[String: Any]] ?? []
        return batches.flatMap { $0["results"] as? [[String: Any]] ?? [] }
    }

    public func accounts(_ context: IntegrationContext) throws -> [ProviderAccount] {
        let answer = try http.send("GET", "\(GoogleAdsProvider.api)/customers:listAccessibleCustomers", headers: headers(context))
        let names = (try checked(answer) as? [String: Any])?["resourceNames"] as? [String] ?? []
        return try names.map { resource in
            let id = String(resource.dropFirst("customers/".count))
            let row = try search(
                id,
                "SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone, customer.manager FROM customer",
                context
            ).first
            let customer = row?["customer"] as? [String: Any] ?? [:]
            return ProviderAccount(
                id: id, name: customer["descriptiveName"] as? String ?? id, currency: customer["currencyCode"] as? String,
                timeZone: customer["timeZone"] as? String)
        }
    }

    public func pull(_ context: IntegrationContext, from: String, to: String) throws -> [MetricRow] {
        guard let customer = context.account?.id else { throw ProviderFailure(.rejected, "no account selected") }
        let window = "segments.date BETWEEN '\(from)' AND '\(to)'"
        let metrics = "segments.date, metrics.impressions, metrics.clicks, metrics.cost_micros"
        let levels: [(String, String)] = [
            ("campaign", "SELECT campaign.id, campaign.name, \(metrics) FROM campaign WHERE \(window)"),
            ("ad_group", "SELECT campaign.id, campaign.name, ad_group.id, ad_group.name, \(metrics) FROM ad_group WHERE \(window)"),
            (
                "ad",
                "SELECT campaign.id, campaign.name, ad_group.id, ad_group.name, ad_group_ad.ad.id, ad_group_ad.ad.name, \(metrics) "
                    + "FROM ad_group_ad WHERE \(window)"
            ),
            (
                "keyword",
                "SELECT campaign.id, campaign.name, ad_group.id, ad_group.name, ad_group_criterion.criterion_id, "
                    + "ad_group_criterion.keyword.text, ad_group_criterion.keyword.match_type, \(metrics) FROM keyword_view WHERE \(window)"
            ),
        ]
        var rows: [MetricRow] = []
        for (level, query) in levels {
            for result in try search(customer, query, context) {
                let campaign = result["campaign"] as? [String: Any] ?? [:]
                let group = result["adGroup"] as? [String: Any] ?? [:]
                let ad = (result["adGroupAd"] as? [String: Any])?["ad"] as? [String: Any] ?? [:]
                let criterion = result["adGroupCriterion"] as? [String: Any] ?? [:]
                let m = result["metrics"] as? [String: Any] ?? [:]
                guard let day = (result["segments"] as? [String: Any])?["date"] as? String, let campaignID = jsonText(campaign["id"]) else {
                    continue
                }
                var row = MetricRow(day: day, level: level, campaignID: campaignID)
                row.campaignName = campaign["name"] as? String ?? ""
                row.adGroupID = jsonText(group["id"]) ?? ""
                row.adGroupName = group["name"] as? String ?? ""
                row.adID = jsonText(ad["id"]) ?? ""
                row.adName = ad["name"] as? String ?? ""
                if level == "keyword" {
                    let keyword = criterion["keyword"] as? [String: Any] ?? [:]
                    let text = keyword["text"] as? String ?? jsonText(criterion["criterionId"]) ?? ""
                    row.keyword = "\(text) [\(keyword["matchType"] as? String ?? "")]"
                }
                row.impressions = Int64(jsonText(m["impressions"]) ?? "0") ?? 0
                row.clicks = Int64(jsonText(m["clicks"]) ?? "0") ?? 0
                row.cost = decimalFromMicros(jsonText(m["costMicros"]))
                rows.append(row)
            }
        }
        return rows
    }

    public func test(_ context: IntegrationContext) throws -> String {
        guard let customer = context.account?.id else { return "Authorized: \(try accounts(context).count) accessible customers" }
        let row = try search(customer, "SELECT customer.id, customer.descriptive_name, customer.currency_code FROM customer", context).first
        let c = row?["customer"] as? [String: Any] ?? [:]
        return "Connected to customer \(customer) (\(c["descriptiveName"] as? String ?? "?"), \(c["currencyCode"] as? String ?? "?"))"
    }

    public func push(_ conversion: PushConversion, _ context: IntegrationContext) -> Result<PushRequest, ProviderFailure> {
        guard let customer = context.account?.id else { return .failure(ProviderFailure(.rejected, "no account selected")) }
        guard let gclid = conversion.externalID ?? conversion.parameters["gclid"], !gclid.isEmpty else {
            return .failure(ProviderFailure(.rejected, "the click has no gclid"))
        }
        let action = ASCII.digits(conversion.providerAction)
        let value = Double(conversion.payout) ?? 0
        let body: [String: Any]
        let url: String
        if context.settings["conversion_api"] == "data_manager" {
            url = "https://datamanager.googleapis.com/v1/events:ingest"
            var destination: [String: Any] = [
                "operatingAccount": ["accountType": "GOOGLE_ADS", "accountId": customer], "productDestinationId": action,
            ]
            if let login = context.settings["login_customer_id"], !login.isEmpty {
                destination["loginAccount"] = ["accountType": "GOOGLE_ADS", "accountId": login]
            }
            body = [
                "destinations": [destination], "validateOnly": false, "encoding": "HEX",
                "events": [
                    [
                        "adIdentifiers": ["gclid": gclid], "eventTimestamp": RFC3339.string(from: conversion.convertedAt),
                        "transactionId": "wm-\(conversion.conversionID)", "conversionValue": value, "currency": conversion.currency,
                        "eventSource": "WEB",
                    ]
                ],
            ]
        } else {
            url = "\(GoogleAdsProvider.api)/customers/\(customer):uploadClickConversions"
            body = [
                "partialFailure": true, "validateOnly": false,
                "conversions": [
                    [
                        "gclid": gclid, "conversionAction": "customers/\(customer)/conversionActions/\(action)",
                        "conversionDateTime": GoogleAdsProvider.dateTime(conversion.convertedAt), "conversionValue": value,
                        "currencyCode": conversion.currency, "orderId": "wm-\(conversion.conversionID)",
                    ]
                ],
            ]
        }
        return Result {
            PushRequest(
                url: url, body: String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self))
        }
        .mapError { ProviderFailure(.rejected, "\($0)") }
    }

    public func authorize(_ url: String, _ context: IntegrationContext) -> (url: String, headers: [(String, String)]) {
        (url, url.contains("datamanager.") ? [("Authorization", "Bearer " + context.accessToken)] : headers(context))
    }

    public func judgePush(status: Int, body: String) -> ProviderFailure? {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        guard (200..<300).contains(status) else {
            return ProviderFailure(
                GoogleAdsProvider.kind(status),
                "HTTP \(status): \((object["error"] as? [String: Any])?["message"] as? String ?? String(body.prefix(200)))")
        }
        if let partial = object["partialFailureError"] as? [String: Any] {
            return ProviderFailure(.rejected, "partial failure: \(partial["message"] as? String ?? "")")
        }
        return nil
    }

    public func revoke(_ context: IntegrationContext) throws {
        _ = try http.send("POST", "https://oauth2.googleapis.com/revoke?token=" + URLEncoding.encode(context.accessToken), form: [])
    }

    /// `yyyy-mm-dd hh:mm:ss+00:00`, the format uploadClickConversions takes.
    public static func dateTime(_ date: Date) -> String {
        let text = RFC3339.string(from: date)
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(8)) + "+00:00"
    }
}
