import Foundation
import WaymarkCore

/// What a report shows where there is no data: every source (or a source's every campaign)
/// side by side on the dashboard, and every day of a period in a chart.
public enum ReportPadding {
    /// Pad with the sources when the report is by source alone, unfiltered by source, campaign or flow.
    public static func padsSources(_ r: ReportRequest) -> Bool {
        r.groups == [.trafficSource] && r.sourceID == nil && r.campaignID == nil && r.flowID == nil
    }

    /// Pad with a source's campaigns when the dashboard drills into that source (not within a flow).
    public static func padsCampaigns(_ r: ReportRequest) -> Bool {
        r.groups == [.campaign] && r.sourceID != nil && r.campaignID == nil && r.flowID == nil
    }

    /// Empty rows for the sources (id, name) that have none in `rows`.
    public static func sourceRows(missingFrom rows: [ReportRow], all: [(id: Int64, name: String)]) -> [ReportRow] {
        let present = Set(rows.compactMap { $0.dimensions["traffic_source_id"]?.id })
        return all.filter { !present.contains($0.id) }.map {
            ReportRow(
                dimensions: ["traffic_source_id": .id($0.id), "traffic_source_name": .text($0.name)], sums: Metrics.Sums(),
                labels: [$0.name])
        }
    }

    /// Empty rows for the campaigns (id, name) that have none in `rows` and that the actor sees.
    public static func campaignRows(
        missingFrom rows: [ReportRow], all: [(id: Int64, name: String)], visible: [Int64: String]
    ) -> [ReportRow] {
        let present = Set(rows.compactMap { $0.dimensions["campaign_id"]?.id })
        return all.filter { !present.contains($0.id) && visible[$0.id] != nil }.map {
            ReportRow(dimensions: ["campaign_id": .id($0.id), "campaign_name": .text($0.name)], sums: Metrics.Sums(), labels: [$0.name])
        }
    }

    /// Every day from `from` to `to` (`YYYY-MM-DD`), at most 400.
    public static func days(_ from: String, _ to: String) -> [String] {
        guard var d = Dates.parseDay(from), let end = Dates.parseDay(to) else { return [] }
        var out: [String] = []
        while d <= end && out.count < 400 {
            out.append(Dates.day(d))
            d = d.addingTimeInterval(86400)
        }
        return out
    }

    /// A value per day, 0 for the days without one.
    public static func series(days: [String], values: [String: Decimal]) -> [Decimal] {
        days.map { values[$0] ?? 0 }
    }
}
