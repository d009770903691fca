import Catalog
import Conversions
import Postgres

/// Conversion-API pushes as the outbox queues them and the sender sends them. Deliveries owns
/// these contracts; Integrations implements them (so Deliveries never depends on Integrations).
public protocol PushQueue: Sendable {
    /// Queues the push of a recorded or updated conversion through `insert`, when the
    /// integration maps its event.
    func enqueue(
        on c: PostgresConnection, integrationID: Int64, reporting: EffectiveReporting, conversionID: Int64, click: ClickForConversion,
        input: PostbackInput, currency: String, previousStatus: String?, firstOfClick: Bool,
        insert: (_ kind: String, _ targetID: Int64, _ targetName: String, _ url: String, _ body: String?, _ skipped: String?) throws -> Void
    ) throws
}

/// How the sender sends a queued push.
public enum PushPlan: Sendable {
    /// With the integration's current token and auth, its answer judged the provider's way.
    case send(url: String, headers: [(String, String)], judge: @Sendable (Int, String) -> ProviderFailure?)
    /// Not now (paused, in error): try again later without counting a try.
    case hold(String)
    case fail(String)
}

public protocol PushAuthorizer: Sendable {
    func plan(integrationID: Int64, url: String) -> PushPlan
    /// The provider refused the token.
    func authorizationLost(_ integrationID: Int64, _ message: String)
}
