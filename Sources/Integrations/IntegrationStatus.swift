/// The life of an integration (docs/integrations.md), as a plain state machine: which action is allowed in
/// which status, and where it leads.
public enum IntegrationStatus: String, Sendable, CaseIterable {
    case notConnected = "not_connected"
    case pendingAccountSelection = "pending_account_selection"
    case active
    case paused
    case error

    public enum Event: Sendable, Equatable {
        /// OAuth authorized (accounts fetched), or GA4's manual credentials saved.
        case authorized(manual: Bool)
        /// A reconnect that reaches the account already chosen: straight back to work.
        case reauthorizedSameAccount
        case accountSelected
        case pause
        case resume
        /// The provider refused the authorization (invalid_grant, Meta 190, TikTok 401xx).
        case authorizationLost
        case disconnect
    }

    /// The next status, or nil when the event is not allowed now.
    public func after(_ event: Event) -> IntegrationStatus? {
        switch (self, event) {
        // Connect and reconnect (Refresh Auth) from any status; a manual provider has no account step.
        case (_, .authorized(let manual)): manual ? .active : .pendingAccountSelection
        case (.error, .reauthorizedSameAccount), (.active, .reauthorizedSameAccount): .active
        case (.paused, .reauthorizedSameAccount): .paused
        case (.pendingAccountSelection, .accountSelected), (.active, .accountSelected), (.paused, .accountSelected):
            self == .paused ? .paused : .active
        case (.active, .pause): .paused
        case (.paused, .resume): .active
        case (.active, .authorizationLost), (.paused, .authorizationLost), (.pendingAccountSelection, .authorizationLost): .error
        case (_, .disconnect): self == .notConnected ? nil : .notConnected
        default: nil
        }
    }

    /// Pulls and pushes happen only here.
    public var syncs: Bool { self == .active }
}
