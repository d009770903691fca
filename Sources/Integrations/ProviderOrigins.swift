import Foundation

/// `WAYMARK_PROVIDER_ORIGINS`: real provider origins mapped onto replacements (local fakes in
/// tests, staging elsewhere). Paths and queries stay exactly the real ones.
public struct ProviderOrigins: Sendable, Equatable {
    public private(set) var map: [String: String] = [:]

    public init(_ text: String) {
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { continue }
            map[ProviderOrigins.trimmed(parts[0])] = ProviderOrigins.trimmed(parts[1])
        }
    }

    /// The URL with its origin replaced when the origin is mapped.
    public func rewrite(_ url: String) -> String {
        for (real, replacement) in map where url == real || url.hasPrefix(real + "/") || url.hasPrefix(real + "?") {
            return replacement + url.dropFirst(real.count)
        }
        return url
    }

    public static func trimmed(_ s: String) -> String { s.hasSuffix("/") ? String(s.dropLast()) : s }
}

/// The providers' app credentials from the environment (docs/integrations.md).
public struct ProviderCredentials: Sendable {
    public var googleClientID: String?
    public var googleClientSecret: String?
    public var googleDeveloperToken: String?
    public var metaAppID: String?
    public var metaAppSecret: String?
    public var tiktokAppID: String?
    public var tiktokAppSecret: String?

    public init(
        googleClientID: String?, googleClientSecret: String?, googleDeveloperToken: String?, metaAppID: String?, metaAppSecret: String?,
        tiktokAppID: String?, tiktokAppSecret: String?
    ) {
        self.googleClientID = googleClientID
        self.googleClientSecret = googleClientSecret
        self.googleDeveloperToken = googleDeveloperToken
        self.metaAppID = metaAppID
        self.metaAppSecret = metaAppSecret
        self.tiktokAppID = tiktokAppID
        self.tiktokAppSecret = tiktokAppSecret
    }
}
