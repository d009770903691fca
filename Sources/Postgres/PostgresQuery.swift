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

    /// `$n` becomes `$(n + offset)`. Over UTF-8 bytes, not characters: `$` and digits are
    /// ASCII, never part of a longer sequence, and a report's SQL (10 000 bytes, renumbered
    /// fragment by fragment) took a seventh of its responder time walking characters.
    static func renumber(_ sql: String, offset: Int) -> String {
        guard offset > 0 else { return sql }
        let bytes = Array(sql.utf8)
        let dollar = UInt8(ascii: "$")
        guard bytes.contains(dollar) else { return sql }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == dollar, i + 1 < bytes.count, isDigit(bytes[i + 1]) else {
                out.append(bytes[i])
                i += 1
                continue
            }
            var end = i + 1
            while end < bytes.count, isDigit(bytes[end]) { end += 1 }
            // A placeholder's digits (a longer run is not one of ours: kept as it is).
            guard end - i - 1 <= 9 else {
                out += bytes[i..<end]
                i = end
                continue
            }
            let n = bytes[(i + 1)..<end].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            out.append(dollar)
            out += String(n + offset).utf8
            i = end
        }
        return String(decoding: out, as: UTF8.self)
    }
}
