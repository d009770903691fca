import Foundation
import Synchronization

/// The providers' app credentials as each call needs them: the environment's
/// (`WAYMARK_GOOGLE_CLIENT_ID` …), field by field, over those an owner saved on the Settings
/// page. The saved ones are read again at most every few seconds, so a change reaches the
/// responder and the worker without a restart.
public final class ProviderApps: Sendable {
    public let environment: ProviderCredentials
    private let store: ProviderAppStore?
    private let cache = Mutex<(at: Double, value: ProviderCredentials)?>(nil)
    static let maxAge = 5.0

    public init(environment: ProviderCredentials, store: ProviderAppStore?) {
        self.environment = environment
        self.store = store
    }

    public func current() -> ProviderCredentials {
        guard let store else { return environment }
        let now = ProcessInfo.processInfo.systemUptime
        if let cached = cache.withLock({ $0 }), now - cached.at < ProviderApps.maxAge { return cached.value }
        // The database away: the environment's alone until it is back.
        let saved = (try? store.stored()) ?? [:]
        let e = environment
        let value = ProviderCredentials(
            googleClientID: e.googleClientID ?? saved["google_ads"]?.appID,
            googleClientSecret: e.googleClientSecret ?? saved["google_ads"]?.secret,
            googleDeveloperToken: e.googleDeveloperToken ?? saved["google_ads"]?.developerToken,
            metaAppID: e.metaAppID ?? saved["meta"]?.appID, metaAppSecret: e.metaAppSecret ?? saved["meta"]?.secret,
            tiktokAppID: e.tiktokAppID ?? saved["tiktok"]?.appID, tiktokAppSecret: e.tiktokAppSecret ?? saved["tiktok"]?.secret)
        cache.withLock { $0 = (now, value) }
        return value
    }

    /// After a save on this process: the next call reads the table again.
    public func invalidate() { cache.withLock { $0 = nil } }
}
