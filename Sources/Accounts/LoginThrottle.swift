import Foundation
import Postgres

/// Slows down and then locks repeated failed logins. Counts live in PostgreSQL so every
/// responder process shares them, and an attempt is counted before its password is checked,
/// under a row lock, so parallel attempts cannot overshoot the limit.
///
/// Three keys: the account from this address (locks after `lockAfter` failures), the address
/// (`ipFactor` × more room: offices share one) and the account from anywhere (as much room as
/// the address). The account-wide lock stops only addresses that have failed on that account:
/// nobody can lock the owner out by knowing the e-mail, and the right password from a clean
/// address goes through. Slowing down answers "wait" at once instead of sleeping on a thread.
public struct LoginThrottle: Sendable {
    public struct Policy: Sendable {
        /// Failures within `window` before each further attempt must wait.
        public var slowAfter = 3
        /// Failures within `window` before the key is locked for `lockFor`.
        public var lockAfter = 8
        public var window: TimeInterval = 15 * 60
        public var lockFor: TimeInterval = 15 * 60
        public var ipFactor = 5
        public var delayPerFailure: TimeInterval = 0.5
        public init() {}
    }

    public enum Verdict: Equatable, Sendable {
        /// Check the password; then call `succeeded` or `failed`.
        case allowed
        /// Too soon after the last failure: try again in this many seconds.
        case wait(seconds: Int)
        case locked(until: Date)
    }

    public let database: PostgresPool
    public let policy: Policy

    public init(database: PostgresPool, policy: Policy = Policy()) {
        self.database = database
        self.policy = policy
    }

    var store: LoginThrottleStore { LoginThrottleStore(database: database) }

    public struct Keys: Sendable {
        public var pair: String
        public var ip: String
        public var account: String
        public var all: [String] { [pair, ip, account] }
    }

    public static func keys(email: String, ip: String) -> Keys {
        let email = email.lowercased()
        return Keys(pair: "pair:" + email + "|" + ip, ip: "ip:" + ip, account: "email:" + email)
    }

    public func lockAfter(_ key: String) -> Int { key.hasPrefix("pair:") ? policy.lockAfter : policy.lockAfter * policy.ipFactor }

    /// Decides on an attempt and, when it may go ahead, counts it as a failure already.
    public func attempt(email: String, ip: String) throws -> Verdict {
        let keys = LoginThrottle.keys(email: email, ip: ip)
        return try store.attempt(
            keys.all, windowSeconds: Int(policy.window), lockForSeconds: Int(policy.lockFor), lockAfter: lockAfter
        ) { verdict(keys, $0) }
    }

    /// The rule, on the keys' states: locked, wait (slowed down), or allowed.
    public func verdict(_ keys: Keys, _ byKey: [String: LoginThrottleStore.KeyState]) -> Verdict {
        let pair = byKey[keys.pair] ?? LoginThrottleStore.KeyState(failures: 0, locked: nil, sinceFailure: .infinity)
        if let until = pair.locked ?? byKey[keys.ip]?.locked { return .locked(until: until) }
        if pair.failures > 0, let until = byKey[keys.account]?.locked { return .locked(until: until) }
        for key in [keys.pair, keys.ip] {
            guard let state = byKey[key] else { continue }
            let slowAfter = key == keys.pair ? policy.slowAfter : policy.slowAfter * policy.ipFactor
            guard state.failures >= slowAfter else { continue }
            let delay = min(5, Double(state.failures - slowAfter + 1) * policy.delayPerFailure)
            if state.sinceFailure < delay { return .wait(seconds: max(1, Int((delay - state.sinceFailure).rounded(.up)))) }
        }
        return .allowed
    }

    /// The password was wrong: the attempt stays counted; the next one waits from now.
    public func failed(email: String, ip: String) throws {
        try store.failed(LoginThrottle.keys(email: email, ip: ip).all)
    }

    /// The password was right: the attempt is taken back, and this address's count for the
    /// account cleared.
    public func succeeded(email: String, ip: String) throws {
        let keys = LoginThrottle.keys(email: email, ip: ip)
        try store.succeeded(pair: keys.pair, others: [keys.ip, keys.account], lockAfter: lockAfter)
    }
}
