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
    /// The app's credentials now (the environment's, else the Settings page's).
    public let apps: ProviderApps
    public var credentials: ProviderCredentials { apps.current() }
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
        let tokens = answer.shape(GoogleTokenAnswer.self)
        guard answer.status == 200, let access = tokens.accessToken else {
            let error = tokens.error ?? "HTTP \(answer.status)"
            let text = "\(error): \(tokens.errorDescription ?? "")"
            throw ProviderFailure(
                error == "invalid_grant" || error == "invalid_client" ? .authorization : GoogleAdsProvider.kind(answer.status), text)
        }
        let expires = tokens.expiresIn.map { Date().addingTimeInterval($0) }
        return ProviderTokens(accessToken: access, refreshToken: tokens.refreshToken, expiresAt: expires)
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

    /// The answer, or the Google Ads error it carries.
    public func checked(_ answer: ProviderAnswer) throws -> ProviderAnswer {
        guard (200..<300).contains(answer.status) else { throw GoogleAdsProvider.failure(answer) }
        return answer
    }

    /// A Google Ads error answer as a failure: its status, first error code and message.
    public static func failure(_ answer: ProviderAnswer) -> ProviderFailure {
        let error = answer.shape(GoogleErrorAnswer.self).error
        let code = error?.code ?? error?.status ?? ""
        return ProviderFailure(
            kind(answer.status), "Google Ads \(answer.status) \(code) \(error?.message ?? answer.text.prefix(200).description)")
    }

    /// Every result row of a GAQL query over searchStream (an array of batches).
    public func search(_ customer: String, _ query: String, _ context: IntegrationContext) throws -> [GoogleAdsRow] {
        let answer = try http.send(
            "POST", "\(GoogleAdsProvider.api)/customers/\(customer)/googleAds:searchStream", headers: headers(context),
            json: GoogleAdsQuery(query: query))
        let batches = try checked(answer).decode([GoogleSearchBatch].self) ?? []
        return batches.flatMap { $0.results ?? [] }
    }

    public func accounts(_ context: IntegrationContext) throws -> [ProviderAccount] {
        let answer = try http.send("GET", "\(GoogleAdsProvider.api)/customers:listAccessibleCustomers", headers: headers(context))
        let names = try checked(answer).shape(GoogleCustomerList.self).resourceNames ?? []
        return try names.map { resource in
            let id = String(resource.dropFirst("customers/".count))
            let row = try search(
                id,
                "SELECT customer.id, customer.descriptive_name, customer.currency_code, customer.time_zone, customer.manager FROM customer",
                context
            ).first
            let customer = row?.customer
            return ProviderAccount(
                id: id, name: customer?.descriptiveName ?? id, currency: customer?.currencyCode, timeZone: customer?.timeZone)
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
        return try levels.flatMap { level, query in
            try search(customer, query, context).compactMap { GoogleAdsProvider.metricRow($0, level: level) }
        }
    }

    /// A GAQL row as a metric row; nil without a date or a campaign id.
    public static func metricRow(_ result: GoogleAdsRow, level: String) -> MetricRow? {
        guard let day = result.segments?.date, let campaignID = result.campaign?.id else { return nil }
        var row = MetricRow(day: day, level: level, campaignID: campaignID)
        row.campaignName = result.campaign?.name ?? ""
        row.adGroupID = result.adGroup?.id ?? ""
        row.adGroupName = result.adGroup?.name ?? ""
        row.adID = result.adGroupAd?.ad?.id ?? ""
        row.adName = result.adGroupAd?.ad?.name ?? ""
        if level == "keyword" {
            let criterion = result.adGroupCriterion
            let text = criterion?.keyword?.text ?? criterion?.criterionId ?? ""
            row.keyword = "\(text) [\(criterion?.keyword?.matchType ?? "")]"
        }
        row.impressions = Int64(result.metrics?.impressions ?? "0") ?? 0
        row.clicks = Int64(result.metrics?.clicks ?? "0") ?? 0
        row.cost = decimalFromMicros(result.metrics?.costMicros)
        return row
    }

    public func test(_ context: IntegrationContext) throws -> String {
        guard let customer = context.account?.id else { return "Authorized: \(try accounts(context).count) accessible customers" }
        let row = try search(customer, "SELECT customer.id, customer.descriptive_name, customer.currency_code FROM customer", context).first
        let c = row?.customer
        return "Connected to customer \(customer) (\(c?.descriptiveName ?? "?"), \(c?.currencyCode ?? "?"))"
    }

    public func push(_ conversion: PushConversion, _ context: IntegrationContext) -> Result<PushRequest, ProviderFailure> {
        guard let customer = context.account?.id else { return .failure(ProviderFailure(.rejected, "no account selected")) }
        guard let gclid = conversion.externalID ?? conversion.parameters["gclid"], !gclid.isEmpty else {
            return .failure(ProviderFailure(.rejected, "the click has no gclid"))
        }
        let action = ASCII.digits(conversion.providerAction)
        let value = Double(conversion.payout) ?? 0
        let orderID = "wm-\(conversion.conversionID)"
        let url: String
        let body: any Encodable
        if context.settings["conversion_api"] == "data_manager" {
            url = "https://datamanager.googleapis.com/v1/events:ingest"
            let login = context.settings["login_customer_id"].flatMap { $0.isEmpty ? nil : $0 }
            let destination = GoogleDataManagerIngest.Destination(
                operatingAccount: .init(accountId: customer), loginAccount: login.map { .init(accountId: $0) },
                productDestinationId: action)
            let event = GoogleDataManagerIngest.Event(
                adIdentifiers: ["gclid": gclid], eventTimestamp: RFC3339.string(from: conversion.convertedAt),
                transactionId: orderID, conversionValue: value, currency: conversion.currency)
            body = GoogleDataManagerIngest(destinations: [destination], events: [event])
        } else {
            url = "\(GoogleAdsProvider.api)/customers/\(customer):uploadClickConversions"
            let upload = GoogleClickConversionUpload.Conversion(
                gclid: gclid, conversionAction: "customers/\(customer)/conversionActions/\(action)",
                conversionDateTime: GoogleAdsProvider.dateTime(conversion.convertedAt), conversionValue: value,
                currencyCode: conversion.currency, orderId: orderID)
            body = GoogleClickConversionUpload(conversions: [upload])
        }
        return Result { PushRequest(url: url, body: try ProviderJSON.text(body)) }.mapError { ProviderFailure(.rejected, "\($0)") }
    }

    public func authorize(_ url: String, _ context: IntegrationContext) -> (url: String, headers: [(String, String)]) {
        (url, url.contains("datamanager.") ? [("Authorization", "Bearer " + context.accessToken)] : headers(context))
    }

    public func judgePush(status: Int, body: String) -> ProviderFailure? {
        let answer = ProviderJSON.shape(GoogleErrorAnswer.self, from: body)
        guard (200..<300).contains(status) else {
            return ProviderFailure(GoogleAdsProvider.kind(status), "HTTP \(status): \(answer.error?.message ?? String(body.prefix(200)))")
        }
        if let partial = answer.partialFailureError {
            return ProviderFailure(.rejected, "partial failure: \(partial.message ?? "")")
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
