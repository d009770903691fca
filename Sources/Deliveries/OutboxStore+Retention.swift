import Postgres

extension OutboxStore {
    /// Deletes finished deliveries (delivered, failed, skipped) last changed more than `days`
    /// ago, with their attempts; pending ones always stay. At most `batch` rows per call, so a
    /// first run over a long history is spread over worker cycles. SKIP LOCKED: two workers take
    /// separate batches, and a row being requeued meanwhile is left alone.
    @discardableResult
    public func expire(olderThanDays days: Int, batch: Int = 5000, on c: PostgresConnection) throws -> Int {
        guard days > 0 else { return 0 }
        return try c.query(
            """
            WITH gone AS (
                DELETE FROM deliveries WHERE id IN (
                    SELECT id FROM deliveries WHERE state <> 'pending' AND updated_at < now() - make_interval(days => \(days))
                    LIMIT \(batch) FOR UPDATE SKIP LOCKED)
                RETURNING 1)
            SELECT count(*) AS n FROM gone
            """
        )[0].decode("n")
    }
}
