import Postgres

/// The retention of postbacks no workspace owns: unattributed ones (naming no known click) and
/// invalid ones naming no workspace. Anyone can send them, so they cannot stay forever.
extension PostbackStore {
    /// Deletes those received more than `days` ago (an index range: cheap every worker cycle).
    public func expire(olderThanDays days: Int) throws {
        guard days > 0 else { return }
        let cutoff: PostgresQuery = "now() - make_interval(days => \(days))"
        try database.query("DELETE FROM postbacks WHERE outcome = 'unattributed' AND received_at < \(fragment: cutoff)")
        try database.query("DELETE FROM postbacks WHERE outcome = 'invalid' AND workspace_id IS NULL AND received_at < \(fragment: cutoff)")
    }
}
