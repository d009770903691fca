/// SQL with its values kept apart: `"SELECT … WHERE id = \(id)"` becomes `$1` plus a bind, sent
/// with `PQexecParams`, so a value can never change the statement. Raw SQL text goes in only
/// through the explicit `\(unescaped:)` door (identifiers and fixed fragments, never input).
public struct PostgresQuery: ExpressibleByStringInterpolation, Sendable {
    public var sql: String
    public var binds: [String?]

    public init(unescaped sql: String, binds: [String?] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        public mutating func appendInterpolation(_ value: (some PostgresEncodable)?) {
            binds.append(value?.postgresText)
            sql += "$\(binds.count)"
        }

        /// Raw SQL: identifiers or fixed fragments chosen by code, never user input.
        public mutating func appendInterpolation(unescaped fragment: String) { sql += fragment }

        /// Another query's SQL and binds, renumbered after the ones already here.
        public mutating func appendInterpolation(fragment: PostgresQuery) {
            sql += PostgresQuery.renumber(fragment.sql, offset: binds.count)
            binds += fragment.binds
        }
    }

    /// Appends another query, renumbering its placeholders.
    public mutating func append(_ other: PostgresQuery) {
        sql += PostgresQuery.renumber(other.sql, offset: binds.count)
        binds += other.binds
    }

    static func renumber(_ sql: String, offset: Int) -> String {
        guard offset > 0, sql.contains("$") else { return sql }
        var out = ""
        var chars = sql.makeIterator()
        var pending: Character? = chars.next()
        while let c = pending {
            pending = chars.next()
            guard c == "$", let first = pending, first.isASCII, first.isNumber else {
                out.append(c)
                continue
            }
            var digits = ""
            while let d = pending, d.isASCII, d.isNumber {
                digits.append(d)
                pending = chars.next()
            }
            out += "$\(Int(digits)! + offset)"
        }
        return out
    }
}
