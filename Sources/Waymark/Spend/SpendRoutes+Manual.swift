import Catalog
import Foundation
import Spend
import WaymarkCore
import Web

/// Manual entry: an amount for a day or a period, spread evenly over its days (cents that do
/// not divide go to the last day, so the days add up to the amount exactly); "preview" shows
/// the split before "save" stores it.
extension SpendRoutes {
    func newManual(_ request: Request, _ actor: Actor) throws -> Response {
        try manualPage(request, actor, form: FormState(), split: nil)
    }

    func manual(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        var form = FormState(fields: try request.form())
        let days = SpendRoutes.days(form.value("from"), form.value("to").nilIfEmpty ?? form.value("from"), errors: &form.errors)
        let amount = form.value("amount").trimmingCharacters(in: .whitespaces)
        guard Decimals.isPlain(amount), let total = Decimal(string: amount) else {
            form.errors["amount"] = "must be a decimal number ≥ 0 with . as separator"
            return try manualPage(request, actor, form: form, split: nil, status: 422)
        }
        guard form.errors.isEmpty else { return try manualPage(request, actor, form: form, split: nil, status: 422) }
        let split = SpendSplit.evenly(total, over: days)
        var dimensions: [String: String] = [:]
        let parameter = form.value("parameter").trimmingCharacters(in: .whitespaces)
        if !parameter.isEmpty { dimensions[parameter] = form.value("parameter_value") }
        let inputs = split.enumerated().map { i, part in
            SpendInput(
                row: i + 1, date: part.day, source: form.value("traffic_source_id"), campaign: form.value("campaign_id"),
                amount: part.amount, currency: form.value("currency"), dimensions: dimensions)
        }
        let (entries, errors) = try checker(for: actor).check(inputs)
        for e in errors {
            form.errors[e.field == "traffic_source" ? "traffic_source_id" : e.field == "campaign" ? "campaign_id" : e.field] = e.message
        }
        if !form.errors.isEmpty { return try manualPage(request, actor, form: form, split: nil, status: 422) }
        guard form.value("action") == "save" else { return try manualPage(request, actor, form: form, split: split) }
        let result = try store.store(entries, origin: "manual", by: actor)
        return AdminShell.redirect(
            to: "/spend", flash: "Saved \(entries.count) days of spend (\(result.created) new, \(result.replaced) replaced).")
    }

    /// The days from `from` to `to` (at most a year), or the form's errors about them.
    static func days(_ from: String, _ to: String, errors: inout [String: String]) -> [String] {
        guard let start = Dates.parseDay(from), let end = Dates.parseDay(to) else {
            errors["from"] = "must be a date"
            return []
        }
        if end < start {
            errors["to"] = "is before the start"
            return []
        }
        if end.timeIntervalSince(start) > 366 * 86400 {
            errors["to"] = "makes a period longer than a year"
            return []
        }
        var days: [String] = []
        var day = start
        while day <= end {
            days.append(Dates.day(day))
            day = day.addingTimeInterval(86400)
        }
        return days
    }

    private func manualPage(
        _ request: Request, _ actor: Actor, form: FormState, split: [(day: String, amount: String)]?, status: Int = 200
    ) throws -> Response {
        let editable = try sources.list(for: actor).filter { actor.canEdit(workspace: $0.workspaceID) }
        let selected = Int64(form.value("traffic_source_id"))
        let campaigns = try sources.campaigns(ofSources: editable.map(\.id))
        var context: [String: Any] = [
            "values": form.values, "errors": form.errors, "has_errors": !form.errors.isEmpty,
            "sources": editable.map {
                ["id": $0.id, "name": $0.name, "selected": $0.id == selected, "currency": $0.costCurrency] as [String: Any]
            },
            "campaigns": campaigns.map { c in
                let sourceName = editable.first { $0.id == c.sourceID }?.name ?? ""
                return ["id": c.id, "name": "\(sourceName) › \(c.name)", "selected": String(c.id) == form.value("campaign_id")]
                    as [String: Any]
            },
        ]
        if let split {
            context["split"] = split.map { ["day": $0.day, "amount": $0.amount] }
            context["days"] = split.count
        }
        return try shell.render(
            request, actor: actor, template: "spend/manual", title: "Enter spend", context: context, status: status, section: "spend")
    }
}
