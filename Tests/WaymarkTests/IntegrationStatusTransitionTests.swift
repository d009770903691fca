import Integrations
import Testing

/// Every event in every status of the integration status machine, as one table: no network.
struct IntegrationStatusTransitionTests {
    typealias S = IntegrationStatus

    static let events: [S.Event] = [
        .authorized(manual: false), .authorized(manual: true), .reauthorizedSameAccount, .accountSelected, .pause, .resume,
        .authorizationLost, .disconnect,
    ]

    /// The expected next status of each status, in the order of `events` (nil: not allowed).
    static let table: [S: [S?]] = [
        .notConnected: [.pendingAccountSelection, .active, nil, nil, nil, nil, nil, nil],
        .pendingAccountSelection: [.pendingAccountSelection, .active, nil, .active, nil, nil, .error, .notConnected],
        .active: [.pendingAccountSelection, .active, .active, .active, .paused, nil, .error, .notConnected],
        .paused: [.pendingAccountSelection, .active, .paused, .paused, nil, .active, .error, .notConnected],
        .error: [.pendingAccountSelection, .active, .active, nil, nil, nil, nil, .notConnected],
    ]

    @Test(arguments: IntegrationStatus.allCases)
    func everyEventInEveryStatus(_ status: IntegrationStatus) throws {
        let expected = try #require(IntegrationStatusTransitionTests.table[status])
        for (event, next) in zip(IntegrationStatusTransitionTests.events, expected) {
            #expect(status.after(event) == next, "\(status) after \(event)")
        }
    }

    @Test func aReconnectOfTheSameAccountKeepsAPause() {
        #expect(S.paused.after(.reauthorizedSameAccount) == .paused)
        #expect(S.error.after(.reauthorizedSameAccount) == .active)
        #expect(S.notConnected.after(.reauthorizedSameAccount) == nil, "nothing to go back to")
        #expect(S.pendingAccountSelection.after(.reauthorizedSameAccount) == nil, "no account chosen yet")
    }

    @Test func onlyActiveSyncs() {
        #expect(IntegrationStatus.allCases.filter(\.syncs) == [.active])
    }
}
