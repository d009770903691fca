import Crypto
import Foundation
import Integrations
import Testing
import Waymark
import WaymarkCore

/// The integration status machine, the origin map and the sealing of secrets: no network.
struct IntegrationStatusTests {
    @Test func theLifeOfAnIntegration() {
        var s = IntegrationStatus.notConnected
        #expect(s.after(.accountSelected) == nil)
        #expect(s.after(.pause) == nil)
        #expect(s.after(.disconnect) == nil)
        s = s.after(.authorized(manual: false))!
        #expect(s == .pendingAccountSelection)
        #expect(s.after(.pause) == nil)
        s = s.after(.accountSelected)!
        #expect(s == .active && s.syncs)
        s = s.after(.pause)!
        #expect(s == .paused && !s.syncs)
        #expect(s.after(.pause) == nil)
        #expect(s.after(.accountSelected) == .paused)
        s = s.after(.resume)!
        #expect(s == .active)
        s = s.after(.authorizationLost)!
        #expect(s == .error && !s.syncs)
        #expect(s.after(.resume) == nil)
        #expect(s.after(.authorized(manual: false)) == .pendingAccountSelection)
        #expect(s.after(.disconnect) == .notConnected)
        // GA4 has no account step.
        #expect(IntegrationStatus.notConnected.after(.authorized(manual: true)) == .active)
        #expect(IntegrationStatus.allCases.map(\.rawValue) == ["not_connected", "pending_account_selection", "active", "paused", "error"])
    }

    @Test func providerOriginsRewriteOnlyMappedOrigins() {
        let map = ProviderOrigins(
            "https://graph.facebook.com=http://127.0.0.1:9102/, https://oauth2.googleapis.com=http://127.0.0.1:9101,broken")
        #expect(
            map.rewrite("https://graph.facebook.com/v26.0/me/adaccounts?fields=id") == "http://127.0.0.1:9102/v26.0/me/adaccounts?fields=id"
        )
        #expect(map.rewrite("https://oauth2.googleapis.com/token") == "http://127.0.0.1:9101/token")
        #expect(map.rewrite("https://graph.facebook.com.evil.example/x") == "https://graph.facebook.com.evil.example/x")
        #expect(map.rewrite("https://www.facebook.com/v26.0/dialog/oauth") == "https://www.facebook.com/v26.0/dialog/oauth")
        #expect(map.map.count == 2)
    }

    @Test func secretsAreSealedAndOpenOnlyWithTheirKey() throws {
        let box = IntegrationSecrets(key: SymmetricKey(size: .bits256))
        let sealed = try box.seal("EAAB-token-1")
        #expect(!sealed.contains("EAAB"))
        #expect(try box.seal("EAAB-token-1") != sealed, "a fresh nonce each time")
        #expect(try box.open(sealed) == "EAAB-token-1")
        #expect(throws: (any Error).self) { try IntegrationSecrets(key: SymmetricKey(size: .bits256)).open(sealed) }
    }
}
