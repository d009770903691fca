import Foundation
import Web

/// The few outbound calls a page or API request makes itself (a spend-feed preview, an
/// integration's Test) take one of a handful of slots, and a request finding none free is
/// refused at once: the responder's threads are the click path's, so at most `slots` of them
/// ever wait on a third party, each for a bounded time. Everything longer runs on the worker.
public final class OutboundGate: Sendable {
    let semaphore: DispatchSemaphore
    /// The longest any one gated call may take (its timeouts are cut to fit).
    public let seconds: Double

    public init(slots: Int, seconds: Double = 15) {
        semaphore = DispatchSemaphore(value: max(1, slots))
        self.seconds = seconds
    }

    /// Runs `body` in a slot (with its deadline), or throws 503 when every slot is taken.
    public func run<T>(_ body: (_ deadline: Date) throws -> T) throws -> T {
        guard let slot = take() else {
            throw HTTPError.unavailable("other outbound calls are running; try again in a few seconds")
        }
        defer { slot.release() }
        return try body(Date().addingTimeInterval(seconds))
    }

    /// A slot, or nil when none is free (the caller does something shorter instead).
    public func take() -> Slot? {
        semaphore.wait(timeout: .now()) == .success ? Slot(semaphore) : nil
    }

    public struct Slot {
        let semaphore: DispatchSemaphore
        init(_ semaphore: DispatchSemaphore) { self.semaphore = semaphore }
        public func release() { semaphore.signal() }
    }
}
