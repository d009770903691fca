import Accounts
import Foundation
import Reports
import WaymarkCore
import Web

/// The report grid's column chooser (remembered per user) and its comparison with the period
/// before (`compare=previous`: the same number of days, ending the day before `from`).
extension ReportRoutes {
    var users: UserStore { UserStore(database: engine.database) }

    /// The metrics the user chose, in the registry's order; all of them when none is saved.
    func chosenColumns(_ actor: Actor) throws -> [Metrics.Metric] {
        guard let keys = try users.reportColumns(actor.userID) else { return Metrics.all }
        let chosen = Metrics.all.filter { keys.contains($0.key) }
        return chosen.isEmpty ? Metrics.all : chosen
    }

    /// `POST /reports/columns`: the checked metrics (unknown keys ignored; none checked: all).
    func saveColumns(_ request: Request, _ actor: Actor) throws -> Response {
        let fields = try request.form()
        let form = FormState(fields: fields)
        let keys = Metrics.all.map(\.key).filter { key in fields.contains { $0.0 == "column" && $0.1 == key } }
        try users.setReportColumns(actor.userID, form.value("reset") == "1" ? nil : keys)
        let back = AdminShell.localPath(form.value("back").nilIfEmpty ?? "/reports")
        return AdminShell.redirect(to: back.hasPrefix("/reports") ? back : "/reports", flash: "Columns saved.")
    }

    /// The same request over the period before, its rows by label and its totals.
    func previousPeriod(_ r: ReportRequest, _ actor: Actor) throws -> (
        from: String, to: String, rows: [String: Metrics.Sums], totals: Metrics.Sums
    ) {
        guard let start = Dates.parseDay(r.from), let end = Dates.parseDay(r.to) else { throw HTTPError.badRequest("bad period") }
        let days = Int((end.timeIntervalSince(start) / 86400).rounded()) + 1
        var before = r
        before.from = Dates.day(start.addingTimeInterval(-Double(days) * 86400))
        before.to = Dates.day(start.addingTimeInterval(-86400))
        let result = try engine.run(before, actor: actor)
        var rows: [String: Metrics.Sums] = [:]
        for row in result.rows { rows[row.labels.joined(separator: " · ")] = row.sums }
        return (before.from, before.to, rows, result.totals)
    }
}
