/// The rows of a result, copied out of the `PGresult` (which is cleared at once).
public struct PostgresRows: Sequence, Sendable {
    public let columns: [String]
    let index: [String: Int]
    let values: [[String?]]
    /// Rows touched by an INSERT/UPDATE/DELETE (`PQcmdTuples`).
    public let affectedRows: Int

    init(columns: [String], values: [[String?]], affectedRows: Int) {
        self.columns = columns
        var index: [String: Int] = [:]
        for (i, name) in columns.enumerated() where index[name] == nil { index[name] = i }
        self.index = index
        self.values = values
        self.affectedRows = affectedRows
    }

    public var count: Int { values.count }
    public var isEmpty: Bool { values.isEmpty }
    public var first: PostgresRow? { values.isEmpty ? nil : PostgresRow(rows: self, row: 0) }
    public subscript(i: Int) -> PostgresRow { PostgresRow(rows: self, row: i) }

    public func makeIterator() -> AnyIterator<PostgresRow> {
        var i = 0
        return AnyIterator {
            guard i < values.count else { return nil }
            defer { i += 1 }
            return PostgresRow(rows: self, row: i)
        }
    }
}

/// One row; columns are read by name, as text or decoded to a Swift type.
public struct PostgresRow: Sendable {
    let rows: PostgresRows
    let row: Int

    /// Every column's text in the result's order (nil for NULL).
    public var values: [String?] { rows.values[row] }

    /// The column's text, or nil for NULL (and for a column that is not there).
    public subscript(column: String) -> String? {
        guard let i = rows.index[column] else { return nil }
        return rows.values[row][i]
    }

    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws(PostgresError) -> T {
        guard let i = rows.index[column] else {
            throw PostgresError(.decoding, "no column \(column)")
        }
        guard let text = rows.values[row][i] else {
            throw PostgresError(.decoding, "column \(column) is NULL")
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError(.decoding, "column \(column) is not a \(T.self): \(text.prefix(40))")
        }
        return value
    }

    public func decode<T: PostgresDecodable>(_ column: String, as type: T?.Type) throws(PostgresError) -> T? {
        guard let i = rows.index[column] else {
            throw PostgresError(.decoding, "no column \(column)")
        }
        guard let text = rows.values[row][i] else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(.decoding, "column \(column) is not a \(T.self): \(text.prefix(40))")
        }
        return value
    }
}
