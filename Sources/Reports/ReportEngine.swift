import Catalog
import Foundation
import Postgres
import WaymarkCore
import Web

/// Runs reports on the raw clicks, conversions and spend (and the click roll-ups where they
/// give the same answer): always exact. The steps: plan where clicks come from, build the SQL
/// (`ReportQuery`), run it, decode the rows (`ReportRowDecoder`), pad and sort them.
public struct ReportEngine: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    var store: ReportStore { ReportStore(database: database) }

    public func run(_ r: ReportRequest, actor: Actor) throws -> ReportResult {
        let plan = try plan(r, actor: actor)
        let rows = try store.execute(ReportQuery(r, plan: plan, actor: actor).sql)
        let names = try store.names(for: actor)
        let flowNames = r.groups.contains { $0.isFlow } ? try store.flowNames(for: actor) : FlowNames()
        let decoder = ReportRowDecoder(
            groups: r.groups, plan: plan, sourceNames: names.sources, campaignNames: names.campaigns, flowNames: flowNames)
        var out: [ReportRow] = []
        var totals = Metrics.Sums()
        var missing = 0
        for row in rows {
            let decoded = decoder.row { row[$0] }
            missing += Int(row["missing"] ?? "0") ?? 0
            totals = totals + decoded.sums
            out.append(decoded)
        }
        out += try padding(r, rows: out, actor: actor, campaignNames: names.campaigns)
        out.sort { $0.labels.lexicographicallyPrecedes($1.labels) }
        var warnings: [String] = []
        if missing > 0 {
            warnings.append(
                "Some amounts have no FX rate to \(r.currency) on or before their day and are left out: import rates (FX rates page).")
        }
        return ReportResult(request: r, rows: out, totals: totals, warnings: warnings)
    }

    /// Where the clicks come from: the roll-ups serve a zone whose offset is whole hours all
    /// through the period, and whole days come from the daily ones of workspaces cut in it.
    func plan(_ r: ReportRequest, actor: Actor) throws -> ReportPlan {
        var plan = ReportPlan(r, wholeHours: try wholeHours(r), slots: try slotMap(actor))
        if plan.readsDailyRollups(r) {
            plan.setDailyWorkspaces(try store.dailyRollupWorkspaces(zone: r.timeZone), for: r)
        }
        return plan
    }

    /// PostgreSQL refuses an unknown zone (22023); pg_timezone_names would cost ~50 ms a call.
    func wholeHours(_ r: ReportRequest) throws -> Bool {
        do {
            return try store.wholeHours(r.timeZone, from: "(\(r.from)::date - 1)::timestamptz", to: "(\(r.to)::date + 2)::timestamptz")
        } catch let error as PostgresError where error.sqlState == "22023" {
            throw HTTPError.badRequest("tz is not a time zone name (e.g. Europe/Berlin)", field: "tz")
        }
    }

    /// The dashboard's empty rows: sources (or a source's campaigns) without data.
    func padding(_ r: ReportRequest, rows: [ReportRow], actor: Actor, campaignNames: [Int64: String]) throws -> [ReportRow] {
        if ReportPadding.padsSources(r) {
            return ReportPadding.sourceRows(missingFrom: rows, all: try store.liveSources(for: actor, workspaceID: r.workspaceID))
        }
        if ReportPadding.padsCampaigns(r), let sourceID = r.sourceID {
            return ReportPadding.campaignRows(missingFrom: rows, all: try store.liveCampaigns(sourceID: sourceID), visible: campaignNames)
        }
        return []
    }

    /// Today's date (`YYYY-MM-DD`) in `zone`, by PostgreSQL's zone rules.
    public func today(in zone: String) throws -> String {
        try store.today(in: zone)
    }

    private func slotMap(_ actor: Actor) throws -> [Int64: [String: Int]] {
        var out: [Int64: [String: Int]] = [:]
        for row in try store.sourceParameters(for: actor) {
            let parameters = (try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data(row.parameters.utf8))) ?? []
            out[row.id] = Dictionary(parameters.map { ($0.name, $0.slot) }, uniquingKeysWith: { a, _ in a })
        }
        return out
    }
}
