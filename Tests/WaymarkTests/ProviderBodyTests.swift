import Foundation
import HTTPClient
import Integrations
import Testing

/// The providers' request bodies against the JSON of data/protocols.md, and their answers read
/// from samples, malformed ones included. No network.
struct ProviderBodyTests {
    /// JSON text in one canonical form (sorted keys), so objects compare whatever their key order.
    static func canonical(_ text: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        return String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    static func expectJSON(_ value: some Encodable, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(try canonical(ProviderJSON.text(value)) == canonical(expected), sourceLocation: sourceLocation)
    }

    static let providers = Providers(
        credentials: ProviderCredentials(
            googleClientID: "g", googleClientSecret: "gs", googleDeveloperToken: nil, metaAppID: "m", metaAppSecret: "ms",
            tiktokAppID: "t", tiktokAppSecret: "ts"),
        http: ProviderHTTP(origins: ProviderOrigins(""), timeout: 5, outbound: OutboundPolicy()))

    @Test func googleUploadClickConversionsIsTheDocumentedBody() throws {
        let body = GoogleClickConversionUpload(conversions: [
            .init(
                gclid: "Cj0KCQiA", conversionAction: "customers/1234567890/conversionActions/987654321",
                conversionDateTime: "2026-01-15 12:32:45+00:00", conversionValue: 49.99, currencyCode: "USD", orderId: "wm-1001")
        ])
        try Self.expectJSON(
            body,
            """
            {"conversions": [{"gclid": "Cj0KCQiA", "conversionAction": "customers/1234567890/conversionActions/987654321",
              "conversionDateTime": "2026-01-15 12:32:45+00:00", "conversionValue": 49.99, "currencyCode": "USD",
              "orderId": "wm-1001"}], "partialFailure": true, "validateOnly": false}
            """)
        #expect(try ProviderJSON.text(body).contains("\"customers/1234567890/conversionActions/987654321\""))
        #expect(GoogleAdsProvider.dateTime(Date(timeIntervalSince1970: 1_768_480_365)) == "2026-01-15 12:32:45+00:00")
    }

    @Test func googleDataManagerIngestIsTheDocumentedBody() throws {
        let event = GoogleDataManagerIngest.Event(
            adIdentifiers: ["gclid": "Cj0KCQiA"], eventTimestamp: "2026-01-15T20:32:45Z", transactionId: "wm-1001",
            conversionValue: 10, currency: "USD")
        let withLogin = GoogleDataManagerIngest(
            destinations: [
                .init(
                    operatingAccount: .init(accountId: "1234567890"), loginAccount: .init(accountId: "1112223333"),
                    productDestinationId: "987654321")
            ],
            events: [event])
        try Self.expectJSON(
            withLogin,
            """
            {"destinations": [{"operatingAccount": {"accountType": "GOOGLE_ADS", "accountId": "1234567890"},
              "loginAccount": {"accountType": "GOOGLE_ADS", "accountId": "1112223333"}, "productDestinationId": "987654321"}],
             "events": [{"adIdentifiers": {"gclid": "Cj0KCQiA"}, "eventTimestamp": "2026-01-15T20:32:45Z",
              "transactionId": "wm-1001", "conversionValue": 10, "currency": "USD", "eventSource": "WEB"}],
             "validateOnly": false, "encoding": "HEX"}
            """)
        var without = withLogin
        without.destinations[0].loginAccount = nil
        #expect(!(try ProviderJSON.text(without)).contains("loginAccount"))
        try Self.expectJSON(GoogleAdsQuery(query: "SELECT customer.id FROM customer"), #"{"query": "SELECT customer.id FROM customer"}"#)
    }

    @Test func metaConversionsAPIEventIsTheDocumentedBody() throws {
        let user = MetaEventsBody.UserData(
            clientIPAddress: "203.0.113.7", clientUserAgent: "Mozilla/5.0", fbc: "fb.1.1767225000123.IwAR", externalID: ["ab12"])
        let event = MetaEventsBody.Event(
            eventName: "Purchase", eventTime: 1_767_225_600, eventID: "1001", eventSourceURL: "https://shop.example.com/thank-you",
            userData: user, customData: .init(value: 49.99, currency: "USD"))
        try Self.expectJSON(
            MetaEventsBody(data: [event], testEventCode: "TEST12345"),
            """
            {"data": [{"event_name": "Purchase", "event_time": 1767225600, "event_id": "1001", "action_source": "website",
              "event_source_url": "https://shop.example.com/thank-you",
              "user_data": {"external_id": ["ab12"], "client_ip_address": "203.0.113.7", "client_user_agent": "Mozilla/5.0",
                "fbc": "fb.1.1767225000123.IwAR"},
              "custom_data": {"value": 49.99, "currency": "USD"}}], "test_event_code": "TEST12345"}
            """)
        var bare = event
        bare.customData = nil
        bare.userData.fbc = nil
        let text = try ProviderJSON.text(MetaEventsBody(data: [bare], testEventCode: nil))
        #expect(!text.contains("custom_data") && !text.contains("fbc") && !text.contains("test_event_code"))
        #expect(text.contains("\"https://shop.example.com/thank-you\""))
        #expect(MetaProvider.fbc(fbclid: "IwAR", clickedAt: Date(timeIntervalSince1970: 1_767_225_000.5)) == "fb.1.1767225000500.IwAR")
    }

    @Test func tiktokBodiesAreTheDocumentedOnes() throws {
        let event = TikTokEventsBody.Event(
            event: "CompletePayment", eventTime: 1_767_225_600, eventID: "1001",
            user: .init(ip: "203.0.113.7", userAgent: "Mozilla/5.0", ttclid: "E.C.P.x"),
            properties: .init(currency: "USD", value: 49.99, orderID: "ord-1001"), page: .init(url: "https://shop.example.com/thank-you"))
        try Self.expectJSON(
            TikTokEventsBody(eventSourceID: "C9ABCDEF", data: [event], testEventCode: "TEST12345"),
            """
            {"event_source": "web", "event_source_id": "C9ABCDEF", "test_event_code": "TEST12345",
             "data": [{"event": "CompletePayment", "event_time": 1767225600, "event_id": "1001",
               "user": {"ttclid": "E.C.P.x", "ip": "203.0.113.7", "user_agent": "Mozilla/5.0"},
               "properties": {"currency": "USD", "value": 49.99, "order_id": "ord-1001"},
               "page": {"url": "https://shop.example.com/thank-you"}}]}
            """)
        var bare = event
        bare.user.ttclid = nil
        bare.properties = .init(currency: "EUR", value: nil, orderID: nil)
        try Self.expectJSON(
            bare,
            """
            {"event": "CompletePayment", "event_time": 1767225600, "event_id": "1001",
             "user": {"ip": "203.0.113.7", "user_agent": "Mozilla/5.0"}, "properties": {"currency": "EUR"},
             "page": {"url": "https://shop.example.com/thank-you"}}
            """)
        try Self.expectJSON(
            TikTokTokenRequest(appID: "7000", secret: "s", authCode: "c"), #"{"app_id": "7000", "secret": "s", "auth_code": "c"}"#)
        try Self.expectJSON(
            TikTokTokenRequest(appID: "7000", secret: "s", accessToken: "a"), #"{"app_id": "7000", "secret": "s", "access_token": "a"}"#)
    }

    @Test func ga4PayloadsAreTheDocumentedOnes() throws {
        let push = GA4Payload(
            clientID: "123456.7654321", timestampMicros: 1_767_225_600_000_000,
            events: [.init(name: "purchase", params: .init(currency: "USD", transactionID: "wm-1", value: 49.99))])
        try Self.expectJSON(
            push,
            """
            {"client_id": "123456.7654321", "timestamp_micros": 1767225600000000,
             "events": [{"name": "purchase",
               "params": {"currency": "USD", "value": 49.99, "transaction_id": "wm-1", "engagement_time_msec": 1}}]}
            """)
        try Self.expectJSON(
            GA4Payload(clientID: "waymark.test", events: [.init(name: "waymark_connection_test", params: .init())]),
            #"{"client_id": "waymark.test", "events": [{"name": "waymark_connection_test", "params": {"engagement_time_msec": 1}}]}"#)
    }
}
