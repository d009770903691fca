import Postgres

/// What the Status page tells of the database itself.
public struct StatusStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// PostgreSQL's version and the database's size in bytes; nil when it does not answer.
    public func info() -> (version: String, bytes: Double?)? {
        guard let row = try? database.query("SELECT version() AS v, pg_database_size(current_database()) AS size").first else {
            return nil
        }
        return (row["v"] ?? "unreachable", row["size"].flatMap(Double.init))
    }
}
