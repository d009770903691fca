import Foundation
import Postgres

/// Uploaded CSV files between their preview and their import, each the uploader's own, with
/// the import's progress for the page to poll. Kept for a day.
public struct SpendUploadStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// `{"total":…,"done":…,"state":…}` of the progress poll.
    public struct Progress: Sendable, Encodable, Equatable {
        public var total: Int
        public var done: Int
        public var state: String
    }

    /// Keeps a previewed file (and drops those older than a day); returns its id.
    public func create(userID: Int64, filename: String, content: String, rows: Int) throws -> Int64 {
        let id: Int64 = try database.query(
            """
            INSERT INTO spend_uploads (user_id, filename, content, rows_total) VALUES (\(userID), \(filename), \(content), \(rows))
            RETURNING id
            """)[0].decode("id")
        try database.query("DELETE FROM spend_uploads WHERE created_at < now() - interval '1 day'")
        return id
    }

    public func progress(_ id: Int64, userID: Int64) throws -> Progress? {
        guard
            let row = try database.query(
                "SELECT rows_total, rows_done, state FROM spend_uploads WHERE id = \(id) AND user_id = \(userID)"
            ).first
        else { return nil }
        return Progress(total: try row.decode("rows_total"), done: try row.decode("rows_done"), state: row["state"] ?? "")
    }

    /// Marks a previewed (or failed) upload as importing and returns its content; nil when it
    /// was imported already, is importing, or has expired.
    public func beginImport(_ id: Int64, userID: Int64) throws -> String? {
        try database.query(
            """
            UPDATE spend_uploads SET state = 'importing', rows_done = 0
            WHERE id = \(id) AND user_id = \(userID) AND state IN ('previewed', 'failed')
            RETURNING content
            """
        ).first.map { try $0.decode("content", as: String.self) }
    }

    /// Best effort: the page polls it, the import does not depend on it.
    public func recordProgress(_ id: Int64, done: Int) {
        _ = try? database.query("UPDATE spend_uploads SET rows_done = \(done) WHERE id = \(id)")
    }

    public func markImported(_ id: Int64) throws {
        try database.query("UPDATE spend_uploads SET state = 'imported', rows_done = rows_total, content = '' WHERE id = \(id)")
    }

    public func markFailed(_ id: Int64) throws {
        try database.query("UPDATE spend_uploads SET state = 'failed' WHERE id = \(id)")
    }
}
