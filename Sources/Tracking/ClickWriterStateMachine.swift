/// The click writer's queue as a plain value (ClickWriter holds its lock around every call):
/// responder threads queue clicks, the writer takes them in batches, oldest first.
public struct ClickBatchQueue<Item> {
    public let maxBatch: Int
    public private(set) var items: [Item] = []
    public private(set) var stopping = false

    public init(maxBatch: Int) { self.maxBatch = maxBatch }

    public mutating func enqueue(_ item: Item) { items.append(item) }

    /// Stops once what is queued is written.
    public mutating func stop() { stopping = true }

    /// Nothing to do but wait for a click (or the next replay check).
    public var isIdle: Bool { items.isEmpty && !stopping }

    /// The next batch (up to `maxBatch`); `finished` once stopping with nothing left to write.
    public mutating func takeBatch() -> (batch: [Item], finished: Bool) {
        let batch = Array(items.prefix(maxBatch))
        items.removeFirst(batch.count)
        return (batch, stopping && items.isEmpty && batch.isEmpty)
    }
}

/// Where the click writer sends a batch next, as a plain value: no I/O, no clock (the writer
/// feeds in the time and the outcomes), used by the writer's thread alone. A batch goes to the
/// database after any spool backlog (to keep the order), or to the spool while the database is
/// away; the spool is replayed once it is back.
public struct ClickWriterStateMachine: Sendable {
    /// Until then, batches go straight to the spool (the database just failed).
    public private(set) var databaseRetryAt = 0.0
    /// False once a replay left no spool file: saves a directory listing per batch.
    public private(set) var spoolMayHavePending = true
    /// How long batches skip the database after it was unreachable.
    public static let retryDelay = 1.0

    public init() {}

    public enum Action: Equatable, Sendable {
        /// Replay the spool's files into the database, then report `replayEnded`.
        case replaySpool
        /// Insert the batch, then report success or `insertFailed`.
        case insert
        /// Append the batch to the spool: that answers its clicks.
        case appendToSpool
    }

    /// A batch is ready to be written.
    public mutating func batchReady(now: Double) -> Action {
        guard now >= databaseRetryAt else { return spool() }
        return spoolMayHavePending ? .replaySpool : .insert
    }

    /// The replay ended; `drained`: no spool file is left. A batch waiting for it goes to the
    /// database only then.
    @discardableResult
    public mutating func replayEnded(drained: Bool) -> Action {
        spoolMayHavePending = !drained
        return drained ? .insert : spool()
    }

    /// The batch's insert failed (the database or one of its rows): it goes to the spool.
    public mutating func insertFailed() -> Action { spool() }

    /// A connection error: skip the database for `retryDelay` (each batch would wait for it).
    public mutating func databaseUnreachable(now: Double) { databaseRetryAt = now + Self.retryDelay }

    /// With nothing queued: whether to replay the spool now (the database may be back).
    public func replayDue(now: Double) -> Bool { spoolMayHavePending && now >= databaseRetryAt }

    private mutating func spool() -> Action {
        spoolMayHavePending = true
        return .appendToSpool
    }
}
