import Catalog
import Foundation
import Integrations
import Testing
import Web

/// The typed answers keep the API's shapes: snake_case keys, and `null` where a value is absent.
struct CatalogJSONTests {
    func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)
    }

    struct Wrapped: Encodable {
        @Nullable var postbackURL: String?
        var warnings: [String]?
    }

    @Test func nullableKeepsTheKeyAndOptionalsStayOut() throws {
        #expect(try json(Wrapped(postbackURL: nil, warnings: nil)) == #"{"postback_url":null}"#)
        #expect(
            try json(Wrapped(postbackURL: "https://x.example/p", warnings: [])) == #"{"postback_url":"https://x.example/p","warnings":[]}"#)
    }

    @Test func conversionReportingShowsEveryKey() throws {
        var reporting = ConversionReporting()
        #expect(
            try json(reporting)
                == #"{"events":[],"integration_id":null,"method":"source","payout_percent":"100","#
                + #""postback_url":null,"reversals":false,"send":"all"}"#
        )
        reporting.method = .capi
        reporting.integrationID = 7
        reporting.rules = SendBackRules(send: "first", events: ["sale"], reversals: true)
        #expect(try json(reporting).contains(#""integration_id":7,"method":"capi""#))
    }

    @Test func mappingsAndSmallAnswers() throws {
        #expect(
            try json(MappingsJSON([.init(event: "sale", action: "Purchase", enabled: false)]))
                == #"{"mappings":[{"enabled":false,"event":"sale","provider_action":"Purchase"}]}"#)
        #expect(try json(AuthorizeJSON(authorizeURL: "https://a.example/o?x=1")) == #"{"authorize_url":"https://a.example/o?x=1"}"#)
        #expect(try json(TestResultJSON(ok: true, message: "fine")) == #"{"message":"fine","ok":true}"#)
    }
}
