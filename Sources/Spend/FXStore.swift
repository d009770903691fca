import Foundation
import Postgres

/// The rates table: stores imported rates (a day's rate replaced by a new import) and answers
/// which currencies can be converted on a day.
public struct FXStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// Stores the rates in one transaction; returns how many rows were written.
    @discardableResult
    public func store(_ rates: [FXRate], source: String) throws -> Int {
        try database.transaction { c in
            var written = 0
            var offset = 0
            while offset < rates.count {
                let chunk = rates[offset..<min(rates.count, offset + 5000)]
                try c.query(
                    PostgresQuery(
                        unescaped: """
                            INSERT INTO fx_rates (currency, day, rate, source)
                            SELECT u.c, u.d, u.r, $4 FROM unnest($1::text[], $2::date[], $3::numeric[]) AS u(c, d, r)
                            ON CONFLICT (currency, day) DO UPDATE SET rate = excluded.rate, source = excluded.source, updated_at = now()
                            """,
                        binds: [
                            PostgresArrayLiteral.encode(chunk.map(\.currency)), PostgresArrayLiteral.encode(chunk.map(\.day)),
                            PostgresArrayLiteral.encode(chunk.map(\.rate)), source,
                        ]))
                written += chunk.count
                offset += chunk.count
            }
            return written
        }
    }

    /// The first day each currency has a rate (EUR: always).
    public func firstDays() throws -> [String: String] {
        var out = ["EUR": "0001-01-01"]
        for row in try database.query("SELECT currency, min(day)::text AS first FROM fx_rates GROUP BY currency") {
            out[try row.decode("currency")] = try row.decode("first")
        }
        return out
    }

    /// The latest rate of each currency, with the day and where it came from.
    public func latest() throws -> [(rate: FXRate, source: String)] {
        try database.query(
            """
            SELECT DISTINCT ON (currency) currency, day::text AS day, rate::text AS rate, source FROM fx_rates ORDER BY currency, day DESC
            """
        ).map { r -> (rate: FXRate, source: String) in
            (FXRate(day: r["day"] ?? "", currency: r["currency"] ?? "", rate: r["rate"] ?? ""), r["source"] ?? "")
        }
    }

    /// How many rates are stored.
    public func count() throws -> Int {
        try database.query("SELECT count(*)::int AS n FROM fx_rates")[0].decode("n")
    }

    /// Why `currency` cannot be converted to `target` on `day`, or nil when it can.
    public static func problem(_ currency: String, to target: String, day: String, firstDays: [String: String]) -> String? {
        guard currency != target else { return nil }
        for c in [currency, target] {
            guard let first = firstDays[c] else {
                return "no FX rate for \(c) at all: import rates first (FX rates page or `waymark fx import`)"
            }
            if first > day { return "no FX rate for \(c) on or before \(day)" }
        }
        return nil
    }
}
