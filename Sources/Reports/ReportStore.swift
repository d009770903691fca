import Foundation
import Postgres
import WaymarkCore

/// What the report engine reads: the planned query's rows, and the names, parameter slots and
/// zone rules it plans, decodes and pads with.
public struct ReportStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    /// JIT compiling this plan costs more (~150 ms) than running it; the sorts fit in memory.
    /// No merge joins: the planner guesses 200 rows for the `spent` list and sorts every
    /// first-step row to merge with it (30 ms of the dashboard's 90), where a hash is 3 ms.
    public func execute(_ query: PostgresQuery) throws -> PostgresRows {
        try database.transaction { c in
            try c.simpleQuery(unescaped: "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'; SET LOCAL enable_mergejoin = off")
            return try c.query(query)
        }
    }

    /// Workspaces whose clicks are cut into daily roll-ups in `zone`.
    public func dailyRollupWorkspaces(zone: String) throws -> [Int64] {
        try database.query("SELECT id FROM workspaces WHERE rollup_daily AND rollup_timezone = \(zone)").map { try $0.decode("id") }
    }

    /// Whether `zone`'s offset is whole hours through the period (PostgreSQL refuses an unknown zone: 22023).
    public func wholeHours(_ zone: String, from: PostgresQuery, to: PostgresQuery) throws -> Bool {
        try database.query(ZoneOffsetsQuery.wholeHours(zone, from: from, to: to)).first?.decode("whole") ?? false
    }

    /// The visible live sources, optionally of one workspace, for padding.
    public func liveSources(for actor: Actor, workspaceID: Int64?) throws -> [(Int64, String)] {
        try database.query(
            """
            SELECT id, name FROM traffic_sources WHERE archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("workspace_id"))
              AND (\(workspaceID)::bigint IS NULL OR workspace_id = \(workspaceID))
            """
        ).map { (try $0.decode("id"), $0["name"] ?? "") }
    }

    /// A source's live campaigns, for padding.
    public func liveCampaigns(sourceID: Int64) throws -> [(Int64, String)] {
        try database.query("SELECT id, name FROM campaigns WHERE archived_at IS NULL AND traffic_source_id = \(sourceID)").map {
            (try $0.decode("id"), $0["name"] ?? "")
        }
    }

    /// Today's date (`YYYY-MM-DD`) in `zone`, by PostgreSQL's zone rules.
    public func today(in zone: String) throws -> String {
        try database.query("SELECT (now() AT TIME ZONE \(zone))::date::text AS d").first?["d"] ?? Dates.day(Date())
    }

    /// Each visible source's parameters as JSON text.
    public func sourceParameters(for actor: Actor) throws -> [(id: Int64, parameters: String)] {
        try database.query(
            "SELECT id, parameters::text AS parameters FROM traffic_sources WHERE \(fragment: actor.visibleWorkspaces("workspace_id"))"
        ).map { (try $0.decode("id"), $0["parameters"] ?? "[]") }
    }

    /// The visible sources' and campaigns' names by id.
    public func names(for actor: Actor) throws -> (sources: [Int64: String], campaigns: [Int64: String]) {
        var sources: [Int64: String] = [:], campaigns: [Int64: String] = [:]
        for r in try database.query("SELECT id, name FROM traffic_sources WHERE \(fragment: actor.visibleWorkspaces("workspace_id"))") {
            sources[try r.decode("id")] = r["name"]
        }
        for r in try database.query(
            """
            SELECT c.id, c.name FROM campaigns c JOIN traffic_sources s ON s.id = c.traffic_source_id
            WHERE \(fragment: actor.visibleWorkspaces("s.workspace_id"))
            """)
        {
            campaigns[try r.decode("id")] = r["name"]
        }
        return (sources, campaigns)
    }

    /// The visible flows (archived ones too: old clicks keep their names), their paths'
    /// names, landers and offers.
    public func flowNames(for actor: Actor) throws -> FlowNames {
        var names = FlowNames()
        for r in try database.query(
            """
            SELECT f.id, f.name, p.i, p.path ->> 'name' AS path_name
            FROM flows f LEFT JOIN LATERAL jsonb_array_elements(f.paths) WITH ORDINALITY AS p (path, i) ON true
            WHERE \(fragment: actor.visibleWorkspaces("f.workspace_id")) ORDER BY f.id, p.i
            """)
        {
            let id: Int64 = try r.decode("id")
            names.flows[id] = r["name"]
            if r["i"] != nil { names.paths[id, default: []].append(r["path_name"] ?? "") }
        }
        for r in try database.query("SELECT id, name FROM landers WHERE \(fragment: actor.visibleWorkspaces("workspace_id"))") {
            names.landers[try r.decode("id")] = r["name"]
        }
        for r in try database.query("SELECT id, name FROM offers WHERE \(fragment: actor.visibleWorkspaces("workspace_id"))") {
            names.offers[try r.decode("id")] = r["name"]
        }
        return names
    }
}
