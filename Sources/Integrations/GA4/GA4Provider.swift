import Conversions
import Deliveries
import Foundation
import WaymarkCore
import Web

/// Google Analytics 4 over the Measurement Protocol (protocols.md §4): manual credentials
/// (Measurement ID + API secret), conversions sent as events with the click's client id.
/// Nothing to pull. The production endpoint answers 2xx even to a malformed payload, so the
/// connection test uses the validation server.
public struct GA4Provider: Provider {
    public let key = "ga4"
    public let name = "Google Analytics 4"
    public let summary = "Sends conversions as Measurement Protocol events (Measurement ID and API secret; nothing to pull)."
    public let usesOAuth = false
    public let isConfigured = true
    public let http: ProviderHTTP

    public static func isMeasurementID(_ s: String) -> Bool {
        s.hasPrefix("G-") && (6...12).contains(s.count - 2)
            && s.dropFirst(2).utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ASCII.isDigit($0) }
    }

    public func authorizeURL(state: String, redirectURI: String, codeChallenge: String) -> String { "" }

    public func exchange(code: String, redirectURI: String, codeVerifier: String) throws -> ProviderTokens {
        throw ProviderFailure(.rejected, "GA4 takes a Measurement ID and an API secret")
    }

    public func accounts(_ context: IntegrationContext) throws -> [ProviderAccount] { [] }

    public func pull(_ context: IntegrationContext, from: String, to: String) throws -> [MetricRow] { [] }

    public func query(_ context: IntegrationContext) -> String {
        URLEncoding.formString([("measurement_id", context.settings["measurement_id"] ?? ""), ("api_secret", context.apiSecret ?? "")])
    }

    public func test(_ context: IntegrationContext) throws -> String {
        let event = GA4Payload(clientID: "waymark.test", events: [.init(name: "waymark_connection_test", params: .init())])
        let answer = try http.send("POST", "https://www.google-analytics.com/debug/mp/collect?" + query(context), json: event)
        guard answer.status == 200 else {
            throw ProviderFailure(answer.status >= 500 ? .temporary : .rejected, "GA4 validation server: HTTP \(answer.status)")
        }
        let messages = answer.shape(GA4Validation.self).validationMessages ?? []
        guard messages.isEmpty else {
            let text = messages.map { "\($0.validationCode ?? ""): \($0.description ?? "")" }.joined(separator: "; ")
            throw ProviderFailure(.rejected, "GA4 validation: " + text)
        }
        return "Measurement Protocol payload validated for \(context.settings["measurement_id"] ?? "")"
    }

    public func push(_ conversion: PushConversion, _ context: IntegrationContext) -> Result<PushRequest, ProviderFailure> {
        // GA4 takes events backdated by 72 hours at most.
        if Date().timeIntervalSince(conversion.convertedAt) > 72 * 3600 {
            return .failure(ProviderFailure(.rejected, "older than the Measurement Protocol's 72-hour window: not sent"))
        }
        let params = GA4Payload.Params(
            currency: conversion.currency, transactionID: conversion.txid ?? "wm-\(conversion.conversionID)",
            value: Double(conversion.payout))
        let clientID = conversion.parameters["ga_client_id"] ?? conversion.parameters["client_id"] ?? conversion.clickID
        let body = GA4Payload(
            clientID: clientID, timestampMicros: Int64(conversion.convertedAt.timeIntervalSince1970 * 1_000_000),
            events: [.init(name: conversion.providerAction, params: params)])
        return Result { PushRequest(url: "https://www.google-analytics.com/mp/collect", body: try ProviderJSON.text(body)) }
            .mapError { ProviderFailure(.rejected, "\($0)") }
    }

    public func authorize(_ url: String, _ context: IntegrationContext) -> (url: String, headers: [(String, String)]) {
        (url + "?" + query(context), [])
    }

    public func judgePush(status: Int, body: String) -> ProviderFailure? {
        (200..<300).contains(status) ? nil : ProviderFailure(status >= 500 || status == 429 ? .temporary : .rejected, "HTTP \(status)")
    }
}
