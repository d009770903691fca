import Postgres

/// What `/healthz` asks of the database: whether it answers.
public struct HealthStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public func isDatabaseReachable() -> Bool { database.isReachable() }
}
