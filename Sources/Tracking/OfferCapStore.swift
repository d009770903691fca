import Foundation
import Postgres

/// The caps' one query: every live capped offer with its conversions of today in its zone.
public enum OfferCapStore {
    public static func counts(on c: PostgresConnection) throws -> [Int64: OfferCaps.Count] {
        var out: [Int64: OfferCaps.Count] = [:]
        let rows = try c.query(
            """
            SELECT o.id, o.daily_cap, extract(epoch FROM d.day_start)::float8 AS day_start,
                   extract(epoch FROM d.day_end)::float8 AS day_end,
                   (SELECT count(*) FROM conversions v WHERE v.offer_id = o.id AND v.status = 'approved'
                      AND v.converted_at >= d.day_start AND v.converted_at < d.day_end) AS n
            FROM offers o LEFT JOIN workspaces w ON w.id = o.workspace_id
            CROSS JOIN LATERAL (SELECT coalesce(w.timezone, 'UTC') AS zone) z
            CROSS JOIN LATERAL (
                SELECT date_trunc('day', now() AT TIME ZONE z.zone) AT TIME ZONE z.zone AS day_start,
                       (date_trunc('day', now() AT TIME ZONE z.zone) + interval '1 day') AT TIME ZONE z.zone AS day_end) d
            WHERE o.daily_cap IS NOT NULL AND o.archived_at IS NULL
            """)
        for row in rows {
            out[try row.decode("id")] = OfferCaps.Count(
                cap: try row.decode("daily_cap"), count: Int(try row.decode("n", as: Int64.self)),
                dayStart: try row.decode("day_start"), dayEnd: try row.decode("day_end"))
        }
        return out
    }
}
