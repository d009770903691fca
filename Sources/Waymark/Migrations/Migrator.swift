import Foundation
import Postgres

/// Applies `db/migrations/NNNN_name.sql` in order, each in its own transaction, and records
/// each in `schema_migrations`. An advisory lock keeps two migrators from racing.
public struct Migrator {
    public struct Migration: Sendable {
        public var version: Int
        public var name: String
        public var sql: String
    }

    public let directory: String

    public init(directory: String) { self.directory = directory }

    public func migrations() throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".sql") }
        var out: [Migration] = []
        for file in files {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw MigrationError("migration file \(file) is not named NNNN_name.sql")
            }
            let sql = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            out.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        out.sort { $0.version < $1.version }
        for (a, b) in zip(out, out.dropFirst()) where a.version == b.version {
            throw MigrationError("two migrations have version \(a.version)")
        }
        return out
    }

    /// Applies what is missing; returns the versions applied now.
    @discardableResult
    public func migrate(_ connection: PostgresConnection) throws -> [Int] {
        let all = try migrations()
        try connection.simpleQuery(
            unescaped: """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """)
        let lockKey = 0x7761_796D  // "waym"
        try connection.query("SELECT pg_advisory_lock(\(lockKey))")
        defer { _ = try? connection.query("SELECT pg_advisory_unlock(\(lockKey))") }
        let done = Set(try connection.query("SELECT version FROM schema_migrations").map { try $0.decode("version", as: Int.self) })
        var applied: [Int] = []
        for migration in all where !done.contains(migration.version) {
            do {
                try connection.transaction { c in
                    try c.simpleQuery(unescaped: migration.sql)
                    try c.query("INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
                }
            } catch {
                throw MigrationError("migration \(migration.version)_\(migration.name) failed: \(error)")
            }
            applied.append(migration.version)
        }
        return applied
    }
}

public struct MigrationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
