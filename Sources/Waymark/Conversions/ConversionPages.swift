import Conversions
import Foundation
import Web

// What the conversions templates read (Mustache contexts stay dictionaries).

extension ConversionRow {
    var page: [String: Any] {
        [
            "id": id, "click_id": clickID, "click_href": "/clicks/" + URLEncoding.encode(clickID), "campaign_id": campaignID,
            "campaign": campaignName, "source": sourceName, "event": event, "txid": txid ?? "", "status": status, "payout": payout,
            "currency": currency, "converted_at": RFC3339.string(from: convertedAt),
            "updated": updatedAt.timeIntervalSince(convertedAt) > 1,
        ]
    }
}

extension ClickRow {
    var page: [String: Any] {
        [
            "id": id, "clicked_at": RFC3339.string(from: clickedAt), "campaign_id": campaignID, "campaign": campaignName,
            "source_id": sourceID, "source": sourceName, "ip": ip, "user_agent": userAgent, "referrer": referrer,
            "external_id": externalID ?? "", "cost": cost, "is_bot": isBot, "is_unique": isUnique, "country": country, "device": device,
            "os": os, "browser": browser, "destination": destination,
            "visitor": [ip, country, device, os, browser].filter { !$0.isEmpty }.joined(separator: " · "),
        ]
    }
}

extension StoredPostback {
    /// A row of the unattributed postbacks page.
    var unattributedPage: [String: Any] {
        [
            "id": id, "received_at": RFC3339.string(from: receivedAt), "channel": channel, "raw": raw, "source_ip": sourceIP,
            "click_id": clickID, "event": event, "txid": txid, "status": status, "payout": payout, "currency": currency,
        ]
    }

    /// A row of a click's journey.
    var journeyPage: [String: Any] {
        [
            "id": id, "received_at": RFC3339.string(from: receivedAt), "channel": channel, "method": method, "raw": raw,
            "source_ip": sourceIP, "outcome": outcome, "error": error, "conversion_id": conversionID,
        ]
    }
}

extension ConversionEvent {
    func page(editable: Bool) -> [String: Any] {
        [
            "id": id, "workspace": workspaceName, "key": key, "name": name, "conversion": countsAsConversion,
            "revenue": countsAsRevenue, "editable": editable,
        ]
    }
}
