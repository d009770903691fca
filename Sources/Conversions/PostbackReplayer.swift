import CoreMetrics
import Foundation
import Glibc
import Logging
import Postgres
import Synchronization
import Threads
import WaymarkCore

/// Postbacks and pixel hits through a database outage (docs/tracking.md, "Durability of postbacks"), one per
/// responder process: while PostgreSQL is unreachable they are fsync'ed to the postback spool
/// and accepted; a thread replays them in order through the recorder once the database is back
/// and the click spool is empty (a postback may name a click still in it). While anything waits
/// in either spool new postbacks queue behind it, so a later status change stays later.
public final class PostbackReplayer: Sendable {
    /// What became of a postback handed in.
    public enum Admission: Sendable {
        /// Recorded now, with its outcome.
        case recorded(ConversionRecorder.Result)
        /// On disk in the spool, recorded later.
        case accepted
        /// Neither recorded nor spooled.
        case unavailable
    }

    public let spool: PostbackSpool
    /// Records live postbacks (and `/postback`'s rejections) as ever.
    public let recorder: ConversionRecorder
    /// Live postbacks go through it: a batch per transaction.
    private let writer: PostbackWriter
    /// The same recorder with no limit on unattributed postbacks: a spooled one was accepted already.
    private let replaying: ConversionRecorder
    private let clickSpoolPending: @Sendable () -> Bool
    private let logger: Logger
    /// True while postbacks go to the spool; the lock also keeps appends and rotation apart.
    private let backlog: Mutex<Bool>
    private let stopping = Mutex(false)
    /// The last replay try found no database: try again after `retryDelay`, and log it once.
    private let unreachable = Mutex(false)
    static let retryDelay: UInt32 = 1_000_000
    private let finished = DispatchSemaphore(value: 0)

    /// The spool is `directory`'s (the click spool's); `clickSpoolPending` says whether clicks wait in that.
    public init(recorder: ConversionRecorder, directory: String, clickSpoolPending: @escaping @Sendable () -> Bool) throws {
        self.recorder = recorder
        writer = PostbackWriter(recorder: recorder)
        spool = try PostbackSpool(directory: directory)
        self.clickSpoolPending = clickSpoolPending
        logger = recorder.logger
        replaying = ConversionRecorder(
            database: recorder.database, outbox: recorder.outbox, logger: recorder.logger,
            unattributedLimit: AddressRateLimiter(rate: 1e9, maxAddresses: 1))
        backlog = Mutex(spool.hasPending || clickSpoolPending())
    }

    public func start() throws {
        try writer.start()
        try spawnThread { [self] in run() }
    }

    /// Waits for the replay in progress, if any, to end (it keeps what it has not replayed).
    public func stop(timeout: Double = 10) {
        stopping.withLock { $0 = true }
        _ = finished.wait(timeout: .now() + timeout)
        writer.stop(timeout: timeout)
    }

    /// Records the postback, or spools it while the database is away or a backlog waits.
    /// `pairs` are what `input` was parsed from.
    public func record(
        _ input: PostbackInput, pairs: [(String, String)], raw: ConversionRecorder.Raw, checkSecret: Bool, requireClickID: Bool = true
    ) throws -> Admission {
        let spooled = {
            SpooledPostback(pairs: pairs, raw: raw, secret: input.secret, checkSecret: checkSecret, requireClickID: requireClickID)
        }
        if let queued = backlog.withLock({ waiting in waiting ? append(spooled()) : nil }) { return queued }
        do {
            let result = try writer.record(input, raw: raw, checkSecret: checkSecret)
            PostbackMetrics.count(result.outcome.rawValue)
            return .recorded(result)
        } catch let error as PostgresError where error.isConnectionError {
            return backlog.withLock { waiting in
                if !waiting { logger.warning("postbacks: database unreachable, spooling them: \(error.message)") }
                waiting = true
                return append(spooled())
            }
        }
    }

    private func append(_ postback: SpooledPostback) -> Admission {
        if spool.append(postback) {
            PostbackMetrics.count("spooled")
            return .accepted
        }
        logger.critical("cannot store a postback: the database is unreachable and the postback spool cannot be written")
        PostbackMetrics.count("unavailable")
        return .unavailable
    }

    private func run() {
        while !stopping.withLock({ $0 }) {
            usleep(unreachable.withLock { $0 } ? PostbackReplayer.retryDelay : 250_000)
            tick()
        }
        finished.signal()
    }

    /// Replays when postbacks wait, the click spool is empty and the database takes them; the
    /// backlog ends once no postback spool file is left.
    private func tick() {
        let clicksWaiting = clickSpoolPending()
        let waiting = backlog.withLock { waiting in
            if clicksWaiting { waiting = true }
            return waiting
        }
        guard waiting, !clicksWaiting, replay() else { return }
        backlog.withLock { waiting in
            if !spool.hasPending && !clickSpoolPending() { waiting = false }
        }
    }

    /// Replays the spool files oldest first; false when the database went away again (the rest
    /// of the file is kept for later).
    private func replay() -> Bool {
        // A file set aside by an earlier try goes first; only then is the current one rotated
        // (one new file per try would pile up during a long outage).
        let files = backlog.withLock { _ in
            let aside = spool.pendingFiles().filter { $0 != spool.current }
            return aside.isEmpty ? spool.rotate() : aside
        }
        for file in files {
            let (postbacks, skipped) = spool.read(file)
            if skipped > 0 { logger.error("postback spool \(file): skipped \(skipped) damaged records") }
            for index in postbacks.indices {
                // Stopped or the database is gone: what is left waits in its file.
                guard !stopping.withLock({ $0 }), replay(postbacks[index]) else {
                    if index > 0, !spool.keep(postbacks[index...], in: file) {
                        logger.error("postback spool \(file): cannot rewrite it")
                    }
                    return false
                }
            }
            unlink(file)
            logger.notice("replayed \(postbacks.count) spooled postbacks from \(file)")
        }
        return true
    }

    /// One postback through the recorder, with the outcome it would have had; false when the
    /// database is unreachable. Logged by click id only: the spooled pairs may hold a secret.
    private func replay(_ postback: SpooledPostback) -> Bool {
        do {
            var input = try postback.input()
            input.receivedAt = postback.receivedAt
            let result = try replaying.record(input, raw: postback.raw, checkSecret: postback.checkSecret)
            PostbackMetrics.count(result.outcome.rawValue, replayed: true)
            unreachable.withLock { $0 = false }
            return true
        } catch let error as PostgresError where error.isConnectionError {
            let first = unreachable.withLock { was in
                defer { was = true }
                return !was
            }
            if first { logger.warning("postback replay waits: the database is unreachable (\(error.message))") }
            return false
        } catch {
            let click = (try? postback.input().clickID) ?? "?"
            logger.error("postback replay: a spooled postback for click \(click) failed and is skipped: \(error)")
            return true
        }
    }
}

/// `waymark_postbacks_total{outcome}` (SPEC §10): each postback and pixel hit once by what became
/// of it — the recorder's outcomes, `spooled` while the database is away (its replay counts
/// again under `replayed="true"` with its final outcome), `unavailable` when not even the
/// spool took it.
enum PostbackMetrics {
    static func count(_ outcome: String, replayed: Bool = false) {
        Counter(label: "waymark_postbacks_total", dimensions: [("outcome", outcome), ("replayed", replayed ? "true" : "false")])
            .increment()
    }
}
