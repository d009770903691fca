import Foundation

/// A small pool of connections shared by many threads. `withConnection` lends one connection
/// exclusively for the closure; a caller waits when all are lent. Connections are opened
/// lazily, and one that broke is dropped so the next caller opens a fresh one.
public final class PostgresPool: @unchecked Sendable {
    public let conninfo: String
    public let maxConnections: Int
    // NSCondition guards `idle` and `open`; that is why the class is @unchecked Sendable.
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0

    /// Whether PostgreSQL answers a trivial prepared query now (the health check).
    public func isReachable() -> Bool {
        (try? query("SELECT 1 AS ok", prepared: true).first?["ok"]) == "1"
    }

    /// Connections lent out now (for `/metrics`).
    public var inUse: Int {
        condition.lock()
        defer { condition.unlock() }
        return open - idle.count
    }

    public init(conninfo: String, maxConnections: Int = 16) {
        self.conninfo = conninfo
        self.maxConnections = max(1, maxConnections)
    }

    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let (connection, reused) = try acquire()
        do {
            let value = try body(connection)
            release(connection, healthy: true)
            return value
        } catch let error as PostgresError where error.isConnectionError {
            release(connection, healthy: false)
            // A connection that sat idle while the server restarted fails on its first use;
            // the server had closed it, so nothing ran: try once more on a fresh connection.
            guard reused else { throw error }
            let (fresh, _) = try acquire(fresh: true)
            do {
                let value = try body(fresh)
                release(fresh, healthy: true)
                return value
            } catch {
                release(fresh, healthy: !((error as? PostgresError)?.isConnectionError ?? false))
                throw error
            }
        } catch {
            release(connection, healthy: true)
            throw error
        }
    }

    /// A transaction on a pooled connection.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        try withConnection { try $0.transaction(body) }
    }

    /// A single statement on a pooled connection.
    @discardableResult
    public func query(_ query: PostgresQuery, prepared: Bool = false) throws -> PostgresRows {
        try withConnection { try $0.query(query, prepared: prepared) }
    }

    /// A connection and whether it was an idle one (else just opened).
    private func acquire(fresh: Bool = false) throws(PostgresError) -> (PostgresConnection, Bool) {
        condition.lock()
        if fresh {
            // Idle connections are as old as the failed one: open a new one instead.
            open -= idle.count
            idle.removeAll()
        }
        while idle.isEmpty && open >= maxConnections {
            condition.wait()
        }
        if let connection = idle.popLast() {
            condition.unlock()
            return (connection, true)
        }
        open += 1
        condition.unlock()
        do {
            return (try PostgresConnection(conninfo: conninfo), false)
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    private func release(_ connection: PostgresConnection, healthy: Bool) {
        condition.lock()
        if healthy && connection.isConnected && connection.transactionDepth == 0 {
            idle.append(connection)
        } else {
            open -= 1
        }
        condition.signal()
        condition.unlock()
    }
}
