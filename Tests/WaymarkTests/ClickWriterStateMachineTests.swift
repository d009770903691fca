import Testing
import Tracking

/// The click writer's decisions, fed events without a database or a spool.
@Suite struct ClickWriterStateMachineTests {
    @Test func aFreshWriterReplaysFirstThenInserts() {
        var m = ClickWriterStateMachine()
        // Clicks may be spooled from the last run: replay them before the first batch.
        #expect(m.batchReady(now: 10) == .replaySpool)
        #expect(m.replayEnded(drained: true) == .insert)
        #expect(!m.spoolMayHavePending)
        // Spool known empty: batches go straight to the database.
        #expect(m.batchReady(now: 11) == .insert)
        #expect(!m.replayDue(now: 11))
    }

    @Test func aFailedInsertSpoolsAndTheNextBatchReplaysFirst() {
        var m = ClickWriterStateMachine()
        _ = m.replayEnded(drained: true)
        #expect(m.batchReady(now: 1) == .insert)
        m.databaseUnreachable(now: 1)
        #expect(m.insertFailed() == .appendToSpool)
        #expect(m.spoolMayHavePending)
        #expect(m.databaseRetryAt == 1 + ClickWriterStateMachine.retryDelay)
    }

    @Test func whileTheDatabaseIsAwayBatchesGoStraightToTheSpool() {
        var m = ClickWriterStateMachine()
        m.databaseUnreachable(now: 100)
        #expect(m.batchReady(now: 100.5) == .appendToSpool)
        #expect(!m.replayDue(now: 100.5))
        // Retry time reached: the backlog is replayed before the new batch.
        #expect(m.batchReady(now: 101) == .replaySpool)
        #expect(m.replayDue(now: 101))
    }

    @Test func aReplayThatStopsHalfwaySpoolsTheBatch() {
        var m = ClickWriterStateMachine()
        #expect(m.batchReady(now: 5) == .replaySpool)
        m.databaseUnreachable(now: 5)
        #expect(m.replayEnded(drained: false) == .appendToSpool)
        #expect(m.spoolMayHavePending)
        #expect(m.batchReady(now: 5.5) == .appendToSpool)
    }

    @Test func anIdleReplayThatDrainsTheSpoolStopsTheChecks() {
        var m = ClickWriterStateMachine()
        #expect(m.replayDue(now: 0))
        m.replayEnded(drained: true)
        #expect(!m.replayDue(now: 1))
        #expect(m.batchReady(now: 1) == .insert)
    }

    @Test func aRowThatFailsWithoutAConnectionErrorDoesNotDelayTheNextBatch() {
        var m = ClickWriterStateMachine()
        m.replayEnded(drained: true)
        #expect(m.insertFailed() == .appendToSpool)
        // Spooled, so the next batch replays it first, at once.
        #expect(m.batchReady(now: 0) == .replaySpool)
    }
}

@Suite struct ClickBatchQueueTests {
    @Test func batchesAreOldestFirstAndCapped() {
        var q = ClickBatchQueue<Int>(maxBatch: 3)
        #expect(q.isIdle)
        for i in 1...5 { q.enqueue(i) }
        #expect(!q.isIdle)
        let first = q.takeBatch()
        #expect(first.batch == [1, 2, 3] && !first.finished)
        let second = q.takeBatch()
        #expect(second.batch == [4, 5] && !second.finished)
        #expect(q.takeBatch().batch.isEmpty)
        #expect(q.isIdle)
    }

    @Test func stoppingWritesWhatIsQueuedThenFinishes() {
        var q = ClickBatchQueue<Int>(maxBatch: 2)
        q.enqueue(1)
        q.enqueue(2)
        q.enqueue(3)
        q.stop()
        #expect(!q.isIdle)
        let a = q.takeBatch()
        #expect(a.batch == [1, 2] && !a.finished)
        let b = q.takeBatch()
        #expect(b.batch == [3] && !b.finished)
        // Finished only on a pass that found nothing left.
        let c = q.takeBatch()
        #expect(c.batch.isEmpty && c.finished)
    }
}
