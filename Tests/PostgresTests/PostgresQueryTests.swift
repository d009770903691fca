import Foundation
import Postgres
import Testing

@Suite struct PostgresQueryTests {
    @Test func interpolatedValuesBecomeBinds() {
        let name = "x'); DROP TABLE users; --"
        let limit = 5
        let q: PostgresQuery = "SELECT * FROM t WHERE name = \(name) AND n < \(limit) ORDER BY \(unescaped: "id")"
        #expect(q.sql == "SELECT * FROM t WHERE name = $1 AND n < $2 ORDER BY id")
        #expect(q.binds == [name, "5"])
    }

    @Test func nilIsNullAndArraysAreLiterals() {
        let missing: String? = nil
        let ids = ["a", "b\"c", "d\\e"]
        let q: PostgresQuery = "SELECT \(missing), \(ids)"
        #expect(q.binds == [nil, #"{"a","b\"c","d\\e"}"#])
    }

    @Test func appendingRenumbersPlaceholders() {
        var q: PostgresQuery = "SELECT * FROM t WHERE a = \(1)"
        q.append(" AND b = \(2) AND c = \(3)")
        #expect(q.sql == "SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $3")
        #expect(q.binds == ["1", "2", "3"])
    }

    /// Placeholders past the ninth, text beyond ASCII around them, and dollars that are not
    /// placeholders (`$$` quoting, `$x`, a trailing `$`) keep their place.
    @Test func fragmentsAreRenumberedByteForByte() {
        var q: PostgresQuery = "SELECT \(1), \(2), \(3), \(4), \(5), \(6), \(7), \(8), \(9), \(10)"
        let inner: PostgresQuery = "'é日🙂' || \("a") || $$x$$ || '$x' || \("b") || 'ü$'"
        q.append(" WHERE s = \(fragment: inner) AND t = \(fragment: inner)")
        #expect(
            q.sql
                == "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 WHERE s = 'é日🙂' || $11 || $$x$$ || '$x' || $12 || 'ü$'"
                + " AND t = 'é日🙂' || $13 || $$x$$ || '$x' || $14 || 'ü$'")
        #expect(q.binds.count == 14)
        #expect(q.binds[10...] == ["a", "b", "a", "b"])
    }

    @Test func timestampsRoundTripThroughText() {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123456)
        let text = date.postgresText!
        #expect(text == "2026-11-18 11:06:40.123456+00")
        let back = Date(postgresText: text)!
        #expect(abs(back.timeIntervalSince1970 - date.timeIntervalSince1970) < 0.000002)
        #expect(Date(postgresText: "2026-11-18 16:36:40+05:30")!.timeIntervalSince1970 == 1_795_000_000)
        // Zero-padded fields, a fraction that rounds up into the next second, the epoch itself.
        #expect(Date(timeIntervalSince1970: 981_173_106.000007).postgresText == "2001-02-03 04:05:06.000007+00")
        #expect(Date(timeIntervalSince1970: 981_173_106.9999996).postgresText == "2001-02-03 04:05:07.000000+00")
        #expect(Date(timeIntervalSince1970: 0).postgresText == "1970-01-01 00:00:00.000000+00")
    }
}
