import Foundation
import Logging
import Postgres
import Threads

/// Group commit for postbacks (issue 19): responder threads queue their postback and wait; a
/// writer thread records everything queued in one transaction on its own connection, commits
/// once and answers each with its outcome. Postbacks that arrive during a commit ride the next
/// one; with `writers` threads as many batches run at once.
///
/// The recorder writes a batch set-wise (a statement per table, not per postback). A SQL error
/// inside a batch rolls the whole batch back and records each of its postbacks alone, so one
/// bad postback never costs the others.
public final class PostbackWriter: @unchecked Sendable {
    final class Pending: @unchecked Sendable {
        let item: ConversionRecorder.Item
        let done = DispatchSemaphore(value: 0)
        var result: Result<ConversionRecorder.Result, any Error>?  // set by the writer before `done`

        init(_ item: ConversionRecorder.Item) { self.item = item }
    }

    // `condition` guards `queue`, `running` and `stopping`.
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var running = false
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    private let recorder: ConversionRecorder
    private let writers: Int
    static let maxBatch = 64

    public init(recorder: ConversionRecorder, writers: Int = 2) {
        self.recorder = recorder
        self.writers = max(1, writers)
    }

    public func start() throws {
        for _ in 0..<writers { try spawnThread(stackBytes: 1 << 20) { [self] in run() } }
        condition.lock()
        running = true
        condition.unlock()
    }

    /// Records the postback in the next batch and returns its outcome once committed; throws
    /// what recording it alone would have thrown (a connection error when the database is away).
    public func record(_ input: PostbackInput, raw: ConversionRecorder.Raw, checkSecret: Bool) throws -> ConversionRecorder.Result {
        let pending = Pending(ConversionRecorder.Item(input, raw: raw, checkSecret: checkSecret))
        condition.lock()
        guard running, !stopping else {
            // Not started, or shutting down: alone, in its own transaction.
            condition.unlock()
            return try recorder.record(input, raw: raw, checkSecret: checkSecret)
        }
        queue.append(pending)
        condition.signal()
        condition.unlock()
        pending.done.wait()
        return try pending.result!.get()
    }

    /// Stops the writers once what is queued is written.
    public func stop(timeout: Double = 10) {
        condition.lock()
        let started = running
        stopping = true
        condition.broadcast()
        condition.unlock()
        guard started else { return }
        for _ in 0..<writers { _ = finished.wait(timeout: .now() + timeout) }
    }

    private func run() {
        var connection: PostgresConnection?
        while let batch = next() {
            connection = write(batch, on: connection)
            for pending in batch { pending.done.signal() }
        }
        finished.signal()
    }

    /// The queued postbacks (at most `maxBatch`), or nil once stopping with none left.
    private func next() -> [Pending]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty {
            if stopping { return nil }
            condition.wait()
        }
        let batch = Array(queue.prefix(PostbackWriter.maxBatch))
        queue.removeFirst(batch.count)
        if !queue.isEmpty { condition.signal() }  // another writer can take the rest
        return batch
    }

    /// Writes the batch on the kept connection (or a new one); returns the connection to keep
    /// (nil once it broke).
    private func write(_ batch: [Pending], on kept: PostgresConnection?) -> PostgresConnection? {
        let c: PostgresConnection
        do {
            if let kept {
                c = kept
            } else {
                c = try PostgresConnection(conninfo: recorder.database.conninfo)
                try PostbackStore.prepareWriterSession(c)
            }
        } catch {
            for pending in batch { pending.result = .failure(error) }
            return nil
        }
        let results = recordTogether(batch.map(\.item), on: c)
        // A kept connection the server closed (a restart) fails first: once more on a fresh one.
        if kept != nil, results.allSatisfy(isConnectionError) { return write(batch, on: nil) }
        for (pending, result) in zip(batch, results) { pending.result = result }
        return results.contains(where: isConnectionError) ? nil : c
    }

    /// Records the postbacks in one transaction on `c`, each with its outcome; when a statement
    /// fails (other than by losing the connection) the batch is rolled back and each is recorded
    /// alone, so each gets what recording it alone gives.
    public func recordTogether(_ items: [ConversionRecorder.Item], on c: PostgresConnection) -> [Result<
        ConversionRecorder.Result, any Error
    >] {
        do {
            return try c.transaction { c in try recorder.record(items, on: c) }
        } catch let error as PostgresError where error.isConnectionError {
            return items.map { _ in .failure(error) }
        } catch {
            return items.map { item in
                Result { try c.transaction { c in try recorder.record([item], on: c)[0].get() } }
            }
        }
    }

    private func isConnectionError(_ result: Result<ConversionRecorder.Result, any Error>?) -> Bool {
        guard case .failure(let error) = result else { return false }
        return (error as? PostgresError)?.isConnectionError ?? false
    }
}
