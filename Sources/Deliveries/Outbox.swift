import Catalog
import Conversions
import Crypto
import Foundation
import Postgres
import WaymarkCore
import Web

/// Queues what a recorded or changed conversion sends out: the S2S postback and the
/// Conversion-API push of the campaign's reporting (its own or its source's, by their
/// send-back rules), and the workspace's webhooks. Rows are rendered now, so a later change of
/// the campaign or source does not alter what is already queued; the worker sends them.
public struct Outbox: ConversionOutbox {
    public var maxAttempts: Int
    public var pushes: (any PushQueue)?
    let conversions: ConversionStore
    let webhooks: WebhookStore
    let rows = OutboxStore()

    public init(database: PostgresPool, maxAttempts: Int, pushes: (any PushQueue)? = nil) {
        self.maxAttempts = maxAttempts
        self.pushes = pushes
        conversions = ConversionStore(database: database)
        webhooks = WebhookStore(database: database)
    }

    public func enqueue(
        on c: PostgresConnection, conversionID: Int64, click: ClickForConversion, input: PostbackInput, currency: String,
        previousStatus: String?
    ) throws {
        let recorded = previousStatus == nil
        // Resolved now: a change of the source reaches every inheriting campaign's next conversion
        // (a batch of postbacks in one transaction reads each campaign's and workspace's once).
        let reporting = try c.memo("reporting \(click.campaignID)") {
            try CampaignStore.reporting(on: c, campaignID: click.campaignID, explained: false)
        }
        if let reporting,
            reporting.postbackURL != nil || reporting.integrationID != nil
        {
            let firstOfClick = try conversions.isFirstOfClick(on: c, clickID: click.id, conversionID: conversionID)
            if let url = reporting.postbackURL,
                reporting.rules.shouldSend(
                    event: input.event, status: input.status.rawValue, previousStatus: previousStatus, recorded: recorded,
                    firstOfClick: firstOfClick, alreadySent: try rows.postbackSent(on: c, conversionID: conversionID))
            {
                let payout = SendBackRules.share(input.payout, percent: reporting.payoutPercent)
                let target = PostbackTokens.fill(
                    url, click: click, conversionID: conversionID, payout: payout, currency: currency, input: input)
                try insert(
                    c, conversionID: conversionID, click: click, kind: "postback", targetID: click.trafficSourceID,
                    targetName: reporting.from == "campaign" ? "campaign \(click.campaignID)" : reporting.sourceName, method: "GET",
                    url: target, headers: [:], body: nil)
            }
            if let integrationID = reporting.integrationID {
                try pushes?.enqueue(
                    on: c, integrationID: integrationID, reporting: reporting, conversionID: conversionID, click: click, input: input,
                    currency: currency, previousStatus: previousStatus, firstOfClick: firstOfClick
                ) {
                    kind, targetID, targetName, url, body, skipped in
                    try insert(
                        c, conversionID: conversionID, click: click, kind: kind, targetID: targetID, targetName: targetName, method: "POST",
                        url: url, headers: ["Content-Type": "application/json"], body: body, skipped: skipped)
                }
            }
        }
        let payload = WebhookPayload(
            recorded: recorded, conversionID: conversionID, click: click, input: input, currency: currency,
            previousStatus: previousStatus, sentAt: Date())
        let hooks = try c.memo("webhooks \(click.workspaceID.map(String.init) ?? "none")") {
            try webhooks.enabled(on: c, workspaceID: click.workspaceID)
        }
        for hook in hooks {
            let body = try payload.body()
            try insert(
                c, conversionID: conversionID, click: click, kind: "webhook", targetID: hook.id, targetName: hook.url, method: "POST",
                url: hook.url,
                headers: ["Content-Type": "application/json", "X-Waymark-Signature": Outbox.signature(body, secret: hook.secret)],
                body: body)
        }
    }

    /// `sha256=<hex HMAC-SHA256 of the body>` with the webhook's secret.
    public static func signature(_ body: String, secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Hex.encode(Array(mac))
    }

    private func insert(
        _ c: PostgresConnection, conversionID: Int64, click: ClickForConversion, kind: String, targetID: Int64, targetName: String,
        method: String, url: String, headers: [String: String], body: String?, skipped: String? = nil
    ) throws {
        // A push the provider would refuse (too old, no click id) is kept, marked `skipped`.
        try rows.enqueue(
            on: c,
            OutboxStore.NewDelivery(
                workspaceID: click.workspaceID, conversionID: conversionID, clickID: click.id, kind: kind, targetID: targetID,
                targetName: targetName, method: method, url: url, headers: headers, body: body, maxAttempts: maxAttempts,
                skipped: skipped))
    }
}

/// The tokens of a source's S2S postback URL (docs/tracking.md), URL-encoded.
public enum PostbackTokens {
    public static func fill(
        _ url: String, click: ClickForConversion, conversionID: Int64, payout: String, currency: String, input: PostbackInput
    ) -> String {
        TokenTemplate(url).render { name in
            switch name {
            case "external_id": click.externalID ?? ""
            case "clickid": click.id
            case "payout": payout
            case "currency": currency
            case "event": input.event
            case "status": input.status.rawValue
            case "txid": input.txid ?? ""
            case "campaign_id": String(click.campaignID)
            case "conversion_id": String(conversionID)
            case "random": RandomToken.base64URL(bytes: 9)
            default: click.parameters[name] ?? ""
            }
        }
    }
}
