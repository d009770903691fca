/// An error from libpq or the server, with the SQLSTATE when the server sent one.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public struct Kind: Hashable, Sendable {
        let name: String
        /// The server could not be reached, or the connection broke.
        public static let connection = Kind(name: "connection")
        /// The server refused the statement (see `sqlState`).
        public static let query = Kind(name: "query")
        /// A column was missing or could not be decoded.
        public static let decoding = Kind(name: "decoding")
    }

    public var kind: Kind
    public var message: String
    /// The five-character SQLSTATE, e.g. `23505` for a unique violation.
    public var sqlState: String?

    public init(_ kind: Kind, _ message: String, sqlState: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    public var isSerializationFailure: Bool { sqlState == "40001" || sqlState == "40P01" }
    public var isConnectionError: Bool { kind == .connection || (sqlState?.hasPrefix("08") ?? false) || sqlState == "57P01" }

    public var description: String {
        if let sqlState { return "PostgreSQL \(kind.name) error \(sqlState): \(message)" }
        return "PostgreSQL \(kind.name) error: \(message)"
    }
}
