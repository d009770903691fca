import Postgres

/// Whether a time zone's offset is whole hours over a period: then the hourly click roll-ups
/// cut its days exactly (reports read them; the worker cuts daily roll-ups only for such zones).
public enum ZoneOffsetsQuery {
    /// One row, `whole`: the offset is whole hours at every hour from `from` to `to`. PostgreSQL
    /// refuses an unknown zone with 22023.
    public static func wholeHours(_ zone: String, from: PostgresQuery, to: PostgresQuery) -> PostgresQuery {
        """
        SELECT bool_and(extract(epoch FROM (h AT TIME ZONE \(zone)) - (h AT TIME ZONE 'UTC'))::int % 3600 = 0) AS whole
        FROM generate_series(\(fragment: from), \(fragment: to), interval '1 hour') AS h
        """
    }
}
