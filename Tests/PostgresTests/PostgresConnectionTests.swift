import Foundation
import Glibc
import Postgres
import Testing
import WaymarkTesting

/// Against the test instance's real PostgreSQL.
@Suite(.needsStack, .timeLimit(.minutes(5))) struct PostgresConnectionTests {
    @Test func valuesNeverChangeTheStatement() throws {
        let c = try TestEnvironment.connect()
        let hostile = "'; DROP TABLE users; --"
        let row = try c.query("SELECT \(hostile)::text AS v, \(42)::int AS n, \(true)::bool AS b").first!
        #expect(try row.decode("v", as: String.self) == hostile)
        #expect(try row.decode("n", as: Int.self) == 42)
        #expect(try row.decode("b", as: Bool.self) == true)
        #expect(try c.query("SELECT count(*) AS n FROM users").first != nil)
    }

    @Test func decodesNullsAndTimestamps() throws {
        let c = try TestEnvironment.connect()
        let row = try c.query("SELECT NULL::text AS missing, timestamptz '2026-03-29 01:30:00+02' AS at").first!
        #expect(try row.decode("missing", as: String?.self) == nil)
        #expect(throws: PostgresError.self) { try row.decode("missing", as: String.self) }
        #expect(try row.decode("at", as: Date.self) == Date(timeIntervalSince1970: 1_774_740_600))
    }

    @Test func transactionsRollBackOnError() throws {
        let c = try TestEnvironment.connect()
        try c.query("CREATE TEMP TABLE tx_test (id int PRIMARY KEY)")
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try c.transaction { c in
                try c.query("INSERT INTO tx_test VALUES (\(1))")
                throw Stop()
            }
        }
        try c.transaction { c in
            try c.query("INSERT INTO tx_test VALUES (\(2))")
            // A failing nested block rolls back to its savepoint only.
            _ = try? c.transaction { c in try c.query("INSERT INTO tx_test VALUES (\(2))") }
            try c.query("INSERT INTO tx_test VALUES (\(3))")
        }
        let ids = try c.query("SELECT id FROM tx_test ORDER BY id").map { try $0.decode("id", as: Int.self) }
        #expect(ids == [2, 3])
    }

    @Test func aMemoLastsOneTransactionAndARollbackForgetsIt() throws {
        let c = try TestEnvironment.connect()
        var reads = 0
        func read() -> Int? {
            c.memo("k") {
                reads += 1
                return reads == 1 ? nil : reads
            }
        }
        #expect(read() == nil)
        #expect(read() == 2)  // outside a transaction every call reads
        try c.transaction { _ in
            #expect(read() == 3)
            #expect(read() == 3)
            #expect(c.memo("other") { "x" } == "x")
        }
        var absentReads = 0
        try c.transaction { _ in
            for _ in 0..<2 {
                let absent: Int? = c.memo("absent") {
                    absentReads += 1
                    return nil
                }
                #expect(absent == nil)
            }
        }
        #expect(absentReads == 1)  // a read that found nothing is kept too
        try c.transaction { _ in #expect(read() == 4) }  // a new transaction reads again
        struct Stop: Error {}
        try c.transaction { c in
            #expect(read() == 5)
            _ = try? c.transaction { _ in throw Stop() }  // rolled back to its savepoint
            #expect(read() == 6)
        }
        #expect(reads == 6)
    }

    @Test func errorsCarryTheSQLState() throws {
        let c = try TestEnvironment.connect()
        try c.query("CREATE TEMP TABLE uniq_test (id int PRIMARY KEY)")
        try c.query("INSERT INTO uniq_test VALUES (1)")
        do {
            try c.query("INSERT INTO uniq_test VALUES (1)")
            Issue.record("expected a unique violation")
        } catch {
            #expect(error.sqlState == "23505")
            #expect(error.isUniqueViolation)
        }
        do {
            try c.query("SELECT * FROM no_such_table")
        } catch {
            #expect(error.sqlState == "42P01")
        }
    }

    @Test func preparedStatementsAreReused() throws {
        let c = try TestEnvironment.connect()
        for i in 0..<5 {
            let row = try c.query("SELECT \(i)::int + 1 AS n", prepared: true).first!
            #expect(try row.decode("n", as: Int.self) == i + 1)
        }
        let count = try c.query("SELECT count(*) AS n FROM pg_prepared_statements").first!
        #expect(try count.decode("n", as: Int.self) == 1)
    }

    @Test func reconnectsAfterTheBackendIsKilled() throws {
        let c = try TestEnvironment.connect()
        let pid: Int = try c.query("SELECT pg_backend_pid() AS pid", prepared: true).first!.decode("pid")
        let killer = try TestEnvironment.connect()
        try killer.query("SELECT pg_terminate_backend(\(pid))")
        // The statement on the dead connection fails as a connection error…
        #expect(throws: PostgresError.self) { try c.query("SELECT 1") }
        // …and the next one reconnects, prepared statements included.
        let again: Int = try c.query("SELECT pg_backend_pid() AS pid", prepared: true).first!.decode("pid")
        #expect(again != pid)
    }

    @Test func poolLendsConnectionsToManyThreads() throws {
        let pool = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 3)
        let group = DispatchGroup()
        let failures = LockedCounter()
        for i in 0..<24 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                do {
                    let n: Int = try pool.query("SELECT \(i)::int AS n, pg_sleep(0.01)").first!.decode("n")
                    if n != i { failures.increment() }
                } catch { failures.increment() }
            }
        }
        group.wait()
        #expect(failures.value == 0)
        let backends: Int = try pool.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = '' AND datname = current_database()"
        ).first!.decode("n")
        #expect(backends >= 1)
    }

    @Test func thePoolRetriesOnceWhenAnIdleConnectionDied() throws {
        let pool = PostgresPool(conninfo: TestEnvironment.databaseURL, maxConnections: 1)
        let pid: Int = try pool.query("SELECT pg_backend_pid() AS pid").first!.decode("pid")
        try TestEnvironment.connect().query("SELECT pg_terminate_backend(\(pid))")
        usleep(100_000)
        let again: Int = try pool.query("SELECT pg_backend_pid() AS pid").first!.decode("pid")
        #expect(again != pid)
    }

    @Test func listenReceivesNotifications() throws {
        let listener = try TestEnvironment.connect()
        try listener.listen("wm_test_channel")
        let sender = try TestEnvironment.connect()
        try sender.query("SELECT pg_notify('wm_test_channel', \("hello"))")
        var received: [PostgresConnection.Notification] = []
        for _ in 0..<20 where received.isEmpty {
            received = try listener.waitForNotifications(timeout: 0.25)
        }
        #expect(received.map(\.payload) == ["hello"])
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
