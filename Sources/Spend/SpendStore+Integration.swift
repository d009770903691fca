import Foundation
import Postgres

/// An ad platform's pulled cost as spend (origin `integration`): the integration's entries of
/// the window are replaced, in the caller's transaction (the pull lands its metrics with it).
extension SpendStore {
    /// What one integration pull lands: who, where, and in which currency.
    public struct IntegrationPull: Sendable {
        public var integrationID: Int64
        public var workspaceID: Int64?
        public var sourceID: Int64
        /// The provider's name, recorded as `created_by`.
        public var provider: String
        public var currency: String
        public var from: String
        public var to: String

        public init(
            integrationID: Int64, workspaceID: Int64?, sourceID: Int64, provider: String, currency: String, from: String, to: String
        ) {
            self.integrationID = integrationID
            self.workspaceID = workspaceID
            self.sourceID = sourceID
            self.provider = provider
            self.currency = currency
            self.from = from
            self.to = to
        }
    }

    /// A platform campaign's cost on a day.
    public struct IntegrationCost: Sendable {
        public var day: String
        /// The Waymark campaign its clicks match; nil = at source level.
        public var campaignID: Int64?
        public var dimensions: [String: String]
        /// Decimal text.
        public var amount: String
        public var impressions: Int64

        public init(day: String, campaignID: Int64?, dimensions: [String: String], amount: String, impressions: Int64) {
            self.day = day
            self.campaignID = campaignID
            self.dimensions = dimensions
            self.amount = amount
            self.impressions = impressions
        }
    }

    /// Replaces the pull's window with `costs` on `c` (inside the caller's transaction);
    /// returns how many entries were written.
    public func replaceIntegrationSpend(_ pull: IntegrationPull, _ costs: [IntegrationCost], on c: PostgresConnection) throws -> Int {
        try c.query(
            """
            DELETE FROM spend_entries WHERE integration_id = \(pull.integrationID) AND origin = 'integration'
              AND day BETWEEN \(pull.from)::date AND \(pull.to)::date
            """)
        for cost in costs {
            let dimensions = String(
                decoding: try JSONSerialization.data(withJSONObject: cost.dimensions, options: [.sortedKeys]), as: UTF8.self)
            try c.query(
                """
                INSERT INTO spend_entries (workspace_id, day, traffic_source_id, campaign_id, dimensions, amount, currency, origin,
                                           created_by, impressions, integration_id)
                VALUES (\(pull.workspaceID), \(cost.day)::date, \(pull.sourceID), \(cost.campaignID), \(dimensions)::jsonb,
                        \(cost.amount)::numeric, \(pull.currency), 'integration', \(pull.provider), \(cost.impressions),
                        \(pull.integrationID))
                ON CONFLICT (day, traffic_source_id, coalesce(campaign_id, 0), dimensions) DO UPDATE
                  SET amount = excluded.amount, currency = excluded.currency, origin = 'integration', impressions = excluded.impressions,
                      integration_id = excluded.integration_id, updated_at = now()
                """)
        }
        return costs.count
    }
}
