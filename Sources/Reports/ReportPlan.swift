/// Where a report reads its clicks from, decided before any SQL is written: the hourly and
/// daily roll-ups where the grouping and the zone allow, else the click table.
public struct ReportPlan: Sendable {
    /// Parameter names grouped by, in group order (their columns are `d_p0`, `d_p1`, …).
    public var params: [String]
    /// Each visible source's parameter slots by name.
    public var slots: [Int64: [String: Int]]
    /// Clicks come from the roll-ups (grouping at campaign level or above, or by flow, path,
    /// lander or offer; whole-hour zone).
    public var useRollups: Bool
    /// Workspaces (0 for Public) whose daily roll-ups are cut in the report's zone.
    public var dailyWorkspaces: [Int64] = []
    /// The one workspace asked for is among them: no hourly rows are needed at all.
    public var onlyDaily = false

    /// `wholeHours`: the zone's offset is whole hours all through the period.
    public init(_ r: ReportRequest, wholeHours: Bool, slots: [Int64: [String: Int]]) {
        params = r.groups.compactMap { if case .param(let n) = $0 { n } else { nil } }
        self.slots = slots
        useRollups = wholeHours && r.groups.allSatisfy { [.day, .hour, .trafficSource, .campaign, .event].contains($0) || $0.isFlow }
    }

    /// Whole days can come from the daily roll-ups (no hour grouping).
    public func readsDailyRollups(_ r: ReportRequest) -> Bool { useRollups && !r.groups.contains(.hour) }

    /// Sets the workspaces cut in the report's zone (Public sources' days are cut in UTC).
    public mutating func setDailyWorkspaces(_ cutInZone: [Int64], for r: ReportRequest) {
        dailyWorkspaces = cutInZone
        if r.timeZone == "UTC" { dailyWorkspaces.append(0) }
        onlyDaily = r.workspaceID.map { dailyWorkspaces.contains($0) } ?? false
    }

    /// The column of a grouped parameter.
    public func paramColumn(_ name: String) -> String { "d_p\(params.firstIndex(of: name)!)" }
}
