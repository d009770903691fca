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

    public init(conninfo: String, maxConnections: Int = 16) {
        self.conninfo = conninfo
        self.maxConnections = max(1, maxConnections)
    }

    public func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        var healthy = true
        defer { release(connection, healthy: healthy) }
        do {
            return try body(connection)
        } catch let error as PostgresError where error.isConnectionError {
            healthy = false
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

    private func acquire() throws(PostgresError) -> PostgresConnection {
        condition.lock()
        while idle.isEmpty && open >= maxConnections {
            condition.wait()
        }
        if let connection = idle.popLast() {
            condition.unlock()
            return connection
        }
        open += 1
        condition.unlock()
        do {
            return try PostgresConnection(conninfo: conninfo)
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
