import Conversions
import Deliveries
import Foundation
import Testing
import Web

/// The webhook body is what receivers verify the signature over: it stays byte for byte what
/// the dictionary it replaced serialized to (slashes escaped, nulls kept). No network.
struct DeliveryWebhookPayloadTests {
    static func click(externalID: String?) -> ClickForConversion {
        ClickForConversion(
            id: "c/1", clickedAt: Date(timeIntervalSince1970: 1_790_000_000), campaignID: 7, trafficSourceID: 3, workspaceID: 2,
            externalID: externalID, campaignCurrency: "USD", workspaceSecret: nil, parameters: [:])
    }

    @Test func thePayloadSerializesAsItsDictionaryDid() throws {
        let sent = Date(timeIntervalSince1970: 1_790_000_100)
        for (externalID, txid, previous) in [("e/1", "T-1", "pending"), (nil, nil, nil)] as [(String?, String?, String?)] {
            var pairs = [("clickid", "c/1"), ("payout", "3.5"), ("event", "sale")]
            if let txid { pairs.append(("txid", txid)) }
            let input = try PostbackInput(pairs)
            let click = Self.click(externalID: externalID)
            let payload = WebhookPayload(
                recorded: previous == nil, conversionID: 42, click: click, input: input, currency: "EUR", previousStatus: previous,
                sentAt: sent)
            let old: [String: Any] = [
                "type": previous == nil ? "conversion.recorded" : "conversion.updated",
                "conversion": [
                    "id": "42", "click_id": click.id, "external_id": click.externalID ?? NSNull(),
                    "campaign_id": click.campaignID, "traffic_source_id": click.trafficSourceID, "event": input.event,
                    "status": input.status.rawValue, "previous_status": previous ?? NSNull(), "payout": input.payout,
                    "currency": "EUR", "txid": input.txid ?? NSNull(), "clicked_at": RFC3339.string(from: click.clickedAt),
                ] as [String: Any],
                "sent_at": RFC3339.string(from: sent),
            ]
            let expected = String(decoding: try JSONSerialization.data(withJSONObject: old, options: [.sortedKeys]), as: UTF8.self)
            #expect(try payload.body() == expected)
        }
    }

    @Test func theSignatureIsTheHMACOfTheBody() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published test vector.
        #expect(
            Outbox.signature("The quick brown fox jumps over the lazy dog", secret: "key")
                == "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")
    }
}
