import Foundation
import Postgres
import WaymarkCore

/// What spend entry needs of the catalog: the sources with the currency their spend reports
/// in, and their campaigns by id, key or name.
extension TrafficSourceStore {
    /// A campaign as spend rows name it.
    public struct CampaignName: Sendable, Equatable {
        public var id: Int64
        public var key: String
        public var name: String
        public var sourceID: Int64

        public init(id: Int64, key: String, name: String, sourceID: Int64) {
            self.id = id
            self.key = key
            self.name = name
            self.sourceID = sourceID
        }
    }

    /// The sources the actor sees, each with its workspace's reporting currency (USD without one).
    public func withReportingCurrency(for actor: Actor) throws -> [(source: TrafficSource, currency: String)] {
        try database.query(
            """
            SELECT \(unescaped: TrafficSourceStore.columns),
                   coalesce((SELECT w.currency FROM workspaces w WHERE w.id = traffic_sources.workspace_id), 'USD') AS reporting_currency
            FROM traffic_sources WHERE archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("workspace_id"))
            """
        ).map { r -> (source: TrafficSource, currency: String) in (try TrafficSourceStore.decode(r), try r.decode("reporting_currency")) }
    }

    /// The campaigns (not archived) of these sources, by name.
    public func campaigns(ofSources ids: [Int64]) throws -> [CampaignName] {
        try database.query(
            """
            SELECT id, key, name, traffic_source_id FROM campaigns
            WHERE archived_at IS NULL AND traffic_source_id = ANY(\(ids)::bigint[]) ORDER BY lower(name)
            """
        ).map {
            CampaignName(
                id: try $0.decode("id"), key: try $0.decode("key"), name: try $0.decode("name"),
                sourceID: try $0.decode("traffic_source_id"))
        }
    }
}
