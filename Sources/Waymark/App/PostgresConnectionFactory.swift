import FastCGI
import Postgres

/// Database handles for the CLI commands, from the configuration.
public enum PostgresConnectionFactory {
    public static func connect(_ configuration: Configuration) throws -> PostgresConnection {
        try PostgresConnection(conninfo: configuration.databaseURL)
    }

    public static func pool(_ configuration: Configuration, size: Int = 2) -> PostgresPool {
        PostgresPool(conninfo: configuration.databaseURL, maxConnections: size)
    }
}
