import Foundation
import Threads

/// Calls back each committed batch's records, in order, on a thread of its own: the click
/// writer starts its next commit at once instead of writing every 302 of the last one first
/// (and being preempted by each nginx worker those writes wake).
final class ClickAnswers: @unchecked Sendable {
    // `condition` guards `batches` and `stopping`.
    private let condition = NSCondition()
    private var batches: [(records: [ClickWriter.Pending], stored: Bool)] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)

    func start() throws {
        try spawnThread(stackBytes: 256 << 10) { [self] in run() }
    }

    func add(_ records: [ClickWriter.Pending], stored: Bool) {
        condition.lock()
        batches.append((records, stored))
        condition.signal()
        condition.unlock()
    }

    /// Returns once every batch added before is called back.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    private func run() {
        while true {
            condition.lock()
            while batches.isEmpty && !stopping { condition.wait() }
            let ready = batches
            batches.removeAll(keepingCapacity: true)
            let done = stopping && ready.isEmpty
            condition.unlock()
            for batch in ready {
                for record in batch.records { record.done(batch.stored) }
            }
            if done {
                finished.signal()
                return
            }
        }
    }
}
