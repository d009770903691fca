import Catalog
import CoreMetrics
import Foundation
import Logging
import Postgres
import Threads
import WaymarkCore

/// The one writer of clicks and lander click-throughs per process (group commit): responder
/// threads queue their record with what to do once it is stored (a click's answer, which the
/// writer's thread then sends: no responder thread waits), or queue it and wait; the writer
/// takes everything queued, stores it with one INSERT and one COMMIT, and calls back each.
/// Clicks that arrive during a commit ride the next one. While PostgreSQL is unreachable the
/// batch goes to the fsync'ed spool instead, replayed when it is back.
public final class ClickWriter: @unchecked Sendable {
    /// Called on the writer's answer thread once the record is committed or spooled (true), or
    /// neither worked (false). It must not block: it is one of a batch.
    public typealias Done = @Sendable (_ stored: Bool) -> Void

    /// One queued record and what to do once it is stored.
    final class Pending: Sendable {
        let record: ClickRecord
        let done: Done
        init(_ record: ClickRecord, _ done: @escaping Done) {
            self.record = record
            self.done = done
        }
    }

    // `condition` guards `queue`; `machine` and `store` (its connection) belong to the writer's thread.
    private let condition = NSCondition()
    private var queue = ClickBatchQueue<Pending>(maxBatch: ClickWriter.maxBatch)
    private var machine = ClickWriterStateMachine()
    private var finished = DispatchSemaphore(value: 0)
    private let answers = ClickAnswers()

    private let store: ClickInsertStore
    private let spool: ClickSpool
    private let logger: Logger
    private let metrics = ClickWriterMetrics()
    public static let maxBatch = 500

    public init(conninfo: String, spool: ClickSpool, logger: Logger) {
        self.store = ClickInsertStore(conninfo: conninfo)
        self.spool = spool
        self.logger = logger
    }

    public func start() throws {
        try answers.start()
        try spawnThread(stackBytes: 1 << 20) { [self] in run() }
    }

    /// Queues the click and waits until it is committed or spooled; false when neither worked.
    public func record(_ click: Click) -> Bool { waitForOutcome { record(click, then: $0) } }

    /// Queues the click; `done` is called once it is committed or spooled, or neither worked.
    public func record(_ click: Click, then done: @escaping Done) {
        var click = click
        click.sanitize()
        enqueue(Pending(.click(click), done))
    }

    /// The same for a lander click-through.
    public func record(_ through: ClickThrough, then done: @escaping Done) {
        enqueue(Pending(.through(through), done))
    }

    private func enqueue(_ pending: Pending) {
        condition.lock()
        queue.enqueue(pending)
        condition.signal()
        condition.unlock()
    }

    /// Stops after writing what is queued (the last batch of a shutdown).
    public func stop(timeout: Double = 10) {
        condition.lock()
        queue.stop()
        condition.signal()
        condition.unlock()
        _ = finished.wait(timeout: .now() + timeout)
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isIdle {
                // Wake now and then to replay the spool once the database is back.
                if !condition.wait(until: Date().addingTimeInterval(1)) { break }
            }
            let (batch, done) = queue.takeBatch()
            condition.unlock()

            if batch.isEmpty {
                if machine.replayDue(now: monotonicSeconds()) { machine.replayEnded(drained: replay()) }
            } else {
                answers.add(batch, stored: write(batch.map(\.record)))
            }
            if done {
                answers.stop()
                finished.signal()
                return
            }
        }
    }

    /// Runs the machine's actions for one batch until it is in the database or the spool.
    private func write(_ clicks: [ClickRecord]) -> Bool {
        var action = machine.batchReady(now: monotonicSeconds())
        while true {
            switch action {
            case .replaySpool: action = machine.replayEnded(drained: replay())
            case .insert:
                let started = monotonicSeconds()
                if insert(clicks) {
                    metrics.committed(clicks, seconds: monotonicSeconds() - started)
                    return true
                }
                action = machine.insertFailed()
            case .appendToSpool:
                if spool.append(clicks) {
                    metrics.spooled.increment(by: Int64(clicks.count))
                    return true
                }
                logger.critical(
                    "cannot store \(clicks.count) clicks or click-throughs: the database is unreachable and the spool cannot be written")
                return false
            }
        }
    }

    /// Replays the spool files oldest first; true when none is left (a failed insert keeps
    /// its file for later).
    private func replay() -> Bool {
        guard spool.hasPending else { return true }
        for file in spool.rotate() {
            let (clicks, skipped) = spool.read(file)
            if skipped > 0 { logger.error("spool \(file): skipped \(skipped) damaged records") }
            var offset = 0
            while offset < clicks.count {
                let chunk = Array(clicks[offset..<min(clicks.count, offset + ClickWriter.maxBatch)])
                guard insert(chunk) else { return false }  // still down: keep the file for later
                metrics.replayed.increment(by: Int64(chunk.count))
                offset += chunk.count
            }
            unlink(file)
            logger.notice("replayed \(clicks.count) spooled clicks from \(file)")
        }
        return !spool.hasPending
    }

    /// One INSERT and its COMMIT (a replayed click is stored once: see ClickInsertStore).
    private func insert(_ clicks: [ClickRecord]) -> Bool {
        do {
            try store.insert(clicks)
            return true
        } catch let error as PostgresError where error.isConnectionError {
            store.disconnect()
            machine.databaseUnreachable(now: monotonicSeconds())
            logger.warning("click writer: database unreachable, spooling: \(error.message)")
            return false
        } catch let error as PostgresError where error.sqlState == "23514" {
            // No partition for some day yet: make them and try once more.
            do {
                try store.ensurePartitions(for: clicks)
                try store.insert(clicks)
                return true
            } catch {
                logger.error("click writer: \(error)")
                return false
            }
        } catch {
            // One bad row fails a batch: store the others one by one.
            logger.error("click writer: batch of \(clicks.count) failed (\(error)); retrying singly")
            guard clicks.count > 1 else { return false }
            var all = true
            for click in clicks where !insert([click]) { all = false }
            return all
        }
    }
}

/// What the writer counts (SPEC §10): clicks and click-throughs committed, spooled and replayed,
/// and each live batch's size and commit time. Made once per writer: a metric's handler is
/// looked up when it is made.
struct ClickWriterMetrics {
    let recorded = Counter(label: "waymark_clicks_recorded_total")
    let spooled = Counter(label: "waymark_clicks_spooled_total")
    let replayed = Counter(label: "waymark_clicks_replayed_total")
    let batchSize = Recorder(label: "waymark_click_write_batch_size")
    let duration = CoreMetrics.Timer(label: "waymark_click_write_duration_seconds")

    func committed(_ batch: [ClickRecord], seconds: Double) {
        recorded.increment(by: Int64(batch.count))
        batchSize.record(batch.count)
        duration.recordNanoseconds(Int64(seconds * 1e9))
    }
}
