import HTTPClient
import Postgres

/// How a provider call failed, in the terms the integration acts on.
public struct ProviderFailure: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// The authorization is expired or revoked: the integration needs reconnecting.
        case authorization
        /// Throttled (429, provider throttling codes): back off.
        case rateLimited
        /// Network errors, 5xx: try again later.
        case temporary
        /// The provider refused the request itself.
        case rejected
    }

    public var kind: Kind
    public var message: String
    public var description: String { message }

    /// The message is redacted here, once for every provider failure that is stored or logged.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = Redaction.scrub(message)
    }
}
