import Conversions
import Foundation
import Testing
import Web

/// The conversions API's typed answers encode exactly as the dictionaries they replaced did
/// (the same keys, numbers, nulls and time format), byte for byte: no database.
struct ConversionAnswerTests {
    static let converted = Date(timeIntervalSince1970: 1_790_000_000)

    static func conversion(txid: String?) -> ConversionRow {
        ConversionRow(
            id: 42, clickID: "c/1é", campaignID: 7, campaignName: "Spring", sourceID: 3, sourceName: "TikTok", event: "sale",
            txid: txid, status: "approved", payout: "12.5", currency: "USD", convertedAt: converted,
            updatedAt: converted.addingTimeInterval(60), clickedAt: converted.addingTimeInterval(-3600))
    }

    static func click(externalID: String?) -> ClickRow {
        ClickRow(
            id: "click-1", clickedAt: converted, campaignID: 7, campaignName: "Spring", sourceID: 3, sourceName: "TikTok", workspaceID: 2,
            ip: "203.0.113.9", userAgent: "Mozilla/5.0", referrer: "https://example.com/a", externalID: externalID, cost: "0.25",
            isBot: false, isUnique: true, country: "DE", device: "mobile", os: "iOS", browser: "Safari",
            destination: "https://shop.example/landing?x=1", parameters: ["zoneId": "9", "sub_id": "a b", "ClickID": "x"])
    }

    /// What `ConversionRow.json` was.
    static func old(_ v: ConversionRow) -> [String: Any] {
        [
            "id": String(v.id), "click_id": v.clickID, "campaign_id": v.campaignID, "traffic_source_id": v.sourceID, "event": v.event,
            "txid": v.txid ?? NSNull(), "status": v.status, "payout": v.payout, "currency": v.currency,
            "converted_at": RFC3339.string(from: v.convertedAt), "updated_at": RFC3339.string(from: v.updatedAt),
            "clicked_at": RFC3339.string(from: v.clickedAt),
        ]
    }

    /// What `ClickRow.json` was.
    static func old(_ k: ClickRow) -> [String: Any] {
        [
            "id": k.id, "clicked_at": RFC3339.string(from: k.clickedAt), "campaign_id": k.campaignID, "traffic_source_id": k.sourceID,
            "ip": k.ip, "user_agent": k.userAgent, "referrer": k.referrer, "external_id": k.externalID ?? NSNull(), "cost": k.cost,
            "is_bot": k.isBot, "is_unique": k.isUnique, "country": k.country, "device": k.device, "os": k.os, "browser": k.browser,
            "destination": k.destination, "parameters": k.parameters,
        ]
    }

    static func serialized(_ object: Any) throws -> String {
        String(
            decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    static func encoded(_ value: some Encodable) throws -> String {
        String(decoding: try JSONCoding.encoder.encode(value), as: UTF8.self)
    }

    @Test func aConversionEncodesAsItsDictionaryDid() throws {
        for txid in ["T-1", nil] {
            let row = Self.conversion(txid: txid)
            #expect(try Self.encoded(row) == Self.serialized(Self.old(row)))
        }
        #expect(try Self.encoded(Self.conversion(txid: nil)).contains(#""txid":null"#))
    }

    @Test func aClickWithItsConversionsEncodesAsItsDictionaryDid() throws {
        for externalID in ["ext-9", nil] {
            let click = Self.click(externalID: externalID)
            let conversions = [Self.conversion(txid: "T-1"), Self.conversion(txid: nil)]
            var old = Self.old(click)
            old["conversions"] = conversions.map(Self.old)
            #expect(try Self.encoded(ClickDetail(click: click, conversions: conversions)) == Self.serialized(old))
        }
        // Parameter names are the source's own: never converted to snake_case.
        #expect(try Self.encoded(Self.click(externalID: nil)).contains(#""zoneId":"9""#))
    }
}
