import CLibPQ
import Glibc

/// One libpq connection. Not thread-safe: a connection is used by one thread at a time (the
/// pool hands it out exclusively), which is why it is `@unchecked Sendable`.
///
/// A broken connection (server restarted) is re-opened before the next statement; prepared
/// statements are prepared again on the new connection.
public final class PostgresConnection: @unchecked Sendable {
    public let conninfo: String
    private var handle: OpaquePointer?
    /// SQL text → prepared statement name, for this physical connection.
    private var prepared: [String: String] = [:]
    private var memos: [String: Any] = [:]
    public private(set) var transactionDepth = 0

    public init(conninfo: String) throws(PostgresError) {
        self.conninfo = conninfo
        try connect()
    }

    deinit {
        if let handle { PQfinish(handle) }
    }

    public var isConnected: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    private func connect() throws(PostgresError) {
        if let handle { PQfinish(handle) }
        handle = nil
        prepared = [:]
        transactionDepth = 0
        guard let conn = PQconnectdb(conninfo) else {
            throw PostgresError(.connection, "out of memory")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmingSpaces
            PQfinish(conn)
            throw PostgresError(.connection, message)
        }
        handle = conn
        // Server notices ("relation exists, skipping") are not errors; keep them off stderr.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
        // Times are exchanged in UTC ISO form; PostgresCoding relies on it.
        try simpleQuery(unescaped: "SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'; SET IntervalStyle TO 'iso_8601'")
    }

    /// Re-opens a connection that broke, unless a transaction was under way (then the caller
    /// must see the failure: the transaction is gone).
    private func ensureConnected() throws(PostgresError) {
        if isConnected { return }
        if transactionDepth > 0 {
            throw PostgresError(.connection, "connection lost during a transaction")
        }
        try connect()
    }

    /// Runs a statement with its binds (`PQexecParams`), or through a prepared statement
    /// named after its SQL when `prepared` is true.
    @discardableResult
    public func query(_ query: PostgresQuery, prepared usePrepared: Bool = false) throws(PostgresError) -> PostgresRows {
        try ensureConnected()
        let result: OpaquePointer?
        if usePrepared {
            let name = try statementName(for: query)
            result = withCStrings(query.binds) { values in
                PQexecPrepared(handle, name, Int32(query.binds.count), values, nil, nil, 0)
            }
        } else {
            result = withCStrings(query.binds) { values in
                PQexecParams(handle, query.sql, Int32(query.binds.count), nil, values, nil, nil, 0)
            }
        }
        return try consume(result)
    }

    /// Runs SQL that carries no values, possibly several statements (migrations, `SET`).
    public func simpleQuery(unescaped sql: String) throws(PostgresError) {
        try ensureConnected()
        // PQexec returns the last result; any error stops the script there.
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result)
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    /// Nested calls use savepoints.
    public func transaction<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let depth = transactionDepth
        if depth == 0 {
            try query("BEGIN")
        } else {
            try query(PostgresQuery(unescaped: "SAVEPOINT sp\(depth)"))
        }
        transactionDepth += 1
        do {
            let value = try body(self)
            transactionDepth -= 1
            if depth == 0 {
                memos.removeAll(keepingCapacity: true)
                try query("COMMIT")
            } else {
                try query(PostgresQuery(unescaped: "RELEASE SAVEPOINT sp\(depth)"))
            }
            return value
        } catch {
            transactionDepth = depth
            memos.removeAll(keepingCapacity: true)  // a memo may hold what the rollback undid
            if isConnected {
                if depth == 0 {
                    _ = try? self.query("ROLLBACK")
                } else {
                    _ = try? self.query(PostgresQuery(unescaped: "ROLLBACK TO SAVEPOINT sp\(depth)"))
                }
            }
            throw error
        }
    }

    /// A read taken once per transaction: within `transaction { }` the first `read` of `key` is
    /// kept until the transaction ends (a rollback, also to a savepoint, forgets every memo);
    /// outside one, `read` runs every time. For configuration a batch of writes consults again
    /// and again: under READ COMMITTED the batch then sees it as of its first read, as if its
    /// writes had arrived together.
    public func memo<T>(_ key: String, _ read: () throws -> T) rethrows -> T {
        guard transactionDepth > 0 else { return try read() }
        if let kept = memos[key] { return kept as! T }
        let value = try read()
        memos[key] = value
        return value
    }

    // MARK: LISTEN / NOTIFY

    public struct Notification: Sendable {
        public var channel: String
        public var payload: String
    }

    public func listen(_ channel: String) throws(PostgresError) {
        try ensureConnected()
        let escaped = PQescapeIdentifier(handle, channel, channel.utf8.count)
        defer { PQfreemem(escaped) }
        guard let escaped else { throw PostgresError(.query, "bad channel name") }
        try simpleQuery(unescaped: "LISTEN " + String(cString: escaped))
    }

    /// Waits up to `timeout` seconds for notifications and returns them (possibly none).
    /// Throws a connection error when the connection broke (the caller re-listens).
    public func waitForNotifications(timeout: Double) throws(PostgresError) -> [Notification] {
        guard let handle, isConnected else { throw PostgresError(.connection, "not connected") }
        var out = drainNotifications()
        if !out.isEmpty { return out }
        var pfd = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let rc = poll(&pfd, 1, Int32(timeout * 1000))
        if rc > 0 {
            if PQconsumeInput(handle) == 0 {
                throw PostgresError(.connection, String(cString: PQerrorMessage(handle)).trimmingSpaces)
            }
            out = drainNotifications()
        }
        if !isConnected { throw PostgresError(.connection, "connection lost") }
        return out
    }

    private func drainNotifications() -> [Notification] {
        var out: [Notification] = []
        while let n = PQnotifies(handle) {
            out.append(Notification(channel: String(cString: n.pointee.relname), payload: String(cString: n.pointee.extra)))
            PQfreemem(n)
        }
        return out
    }

    // MARK: internals

    private func statementName(for query: PostgresQuery) throws(PostgresError) -> String {
        if let name = prepared[query.sql] { return name }
        let name = "wm\(prepared.count + 1)"
        let result = PQprepare(handle, name, query.sql, Int32(query.binds.count), nil)
        _ = try consume(result)
        prepared[query.sql] = name
        return name
    }

    private func check(_ result: OpaquePointer?) throws(PostgresError) {
        guard let result else {
            throw PostgresError(isConnected ? .query : .connection, String(cString: PQerrorMessage(handle)).trimmingSpaces)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN, PGRES_COPY_OUT:
            return
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = String(cString: PQresultErrorMessage(result)).trimmingSpaces
            let connectionLost = !isConnected
            throw PostgresError(connectionLost && state == nil ? .connection : .query, message, sqlState: state)
        }
    }

    private func consume(_ result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        defer { if let result { PQclear(result) } }
        try check(result)
        guard let result else { return PostgresRows(columns: [], values: [], affectedRows: 0) }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        var columns: [String] = []
        columns.reserveCapacity(columnCount)
        for c in 0..<columnCount { columns.append(String(cString: PQfname(result, Int32(c)))) }
        var values: [[String?]] = []
        values.reserveCapacity(rowCount)
        for r in 0..<rowCount {
            var row: [String?] = []
            row.reserveCapacity(columnCount)
            for c in 0..<columnCount {
                if PQgetisnull(result, Int32(r), Int32(c)) != 0 {
                    row.append(nil)
                } else {
                    row.append(String(cString: PQgetvalue(result, Int32(r), Int32(c))))
                }
            }
            values.append(row)
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresRows(columns: columns, values: values, affectedRows: affected)
    }
}

/// Calls `body` with a C array of C strings (NULL for nil) that lives for the call.
func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    if strings.isEmpty { return body(nil) }
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { pointers.forEach { free($0) } }
    let constPointers = pointers.map { UnsafePointer($0) }
    return constPointers.withUnsafeBufferPointer { body($0.baseAddress) }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let last = s.last, last.isWhitespace { s.removeLast() }
        while let first = s.first, first.isWhitespace { s.removeFirst() }
        return String(s)
    }
}
