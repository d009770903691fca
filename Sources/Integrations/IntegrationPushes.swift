import Catalog
import Conversions
import Deliveries
import Foundation
import Postgres

/// Conversion-API pushes through the outbox: queued with the conversion (mapped and enabled
/// events of the source's CAPI integration, when it pushes), sent by the worker's
/// DeliverySender with the token added at send time, so no token sits in the outbox. While the
/// integration is paused its pushes wait; resuming sends them.
public struct IntegrationPushes: PushQueue {
    public let providers: Providers

    public init(providers: Providers) { self.providers = providers }

    public func enqueue(
        on c: PostgresConnection, integrationID: Int64, reporting: EffectiveReporting, conversionID: Int64, click: ClickForConversion,
        input: PostbackInput, currency: String, previousStatus: String?, firstOfClick: Bool,
        insert: (_ kind: String, _ targetID: Int64, _ targetName: String, _ url: String, _ body: String?, _ skipped: String?) throws -> Void
    ) throws {
        // Approved conversions, once: a new one, or one that just became approved; within the
        // reporting's event keys and, for `first`, the click's first conversion only.
        guard input.status == .approved, previousStatus != "approved" else { return }
        if !reporting.rules.events.isEmpty && !reporting.rules.events.contains(input.event) { return }
        if reporting.rules.send == "first" && !firstOfClick { return }
        guard
            let target = try IntegrationStore.pushTarget(
                integrationID: integrationID, event: input.event, conversionID: conversionID, on: c),
            let provider = providers[target.integration.provider]
        else { return }
        let integration = target.integration
        let conversion = PushConversion(
            conversionID: conversionID, clickID: click.id, externalID: click.externalID, clickedAt: click.clickedAt,
            convertedAt: target.convertedAt, event: input.event, providerAction: target.providerAction,
            status: input.status.rawValue, payout: SendBackRules.share(input.payout, percent: reporting.payoutPercent), currency: currency,
            txid: input.txid, ip: click.ip,
            userAgent: click.userAgent, destination: click.destination, parameters: click.parameters)
        let context = IntegrationContext(accessToken: "", account: integration.account, settings: integration.settings)
        switch provider.push(conversion, context) {
        case .success(let push): try insert("capi", integration.id, provider.name, push.url, push.body, nil)
        case .failure(let reason): try insert("capi", integration.id, provider.name, "", nil, reason.message)
        }
    }
}

/// How the sender sends a queued push: the integration's current token and auth, or a hold
/// while it is paused or needs reconnecting.
public struct IntegrationPushSender: PushAuthorizer {
    public let store: IntegrationStore

    public init(store: IntegrationStore) { self.store = store }

    public typealias Plan = PushPlan

    public func plan(integrationID: Int64, url: String) -> Plan {
        guard let integration = try? store.get(integrationID), let provider = store.providers[integration.provider] else {
            return .fail("the integration no longer exists")
        }
        switch integration.status {
        case .notConnected: return .fail("the integration was disconnected")
        case .paused: return .hold("integration paused")
        case .error, .pendingAccountSelection: return .hold("integration needs reconnecting")
        case .active: break
        }
        do {
            let auth = provider.authorize(url, try store.context(integration))
            return .send(
                url: store.providers.origins.rewrite(auth.url), headers: auth.headers + [("Content-Type", "application/json")],
                judge: { provider.judgePush(status: $0, body: $1) })
        } catch {
            return .hold("\(error)")
        }
    }

    /// The provider refused the token: a refresh where there is one (the retry uses it), else
    /// the integration needs reconnecting.
    public func authorizationLost(_ integrationID: Int64, _ message: String) {
        guard let integration = try? store.get(integrationID) else { return }
        if integration.hasRefreshToken, (try? store.context(integration, forceRefresh: true)) != nil { return }
        try? store.authorizationLost(integrationID, message)
    }
}
