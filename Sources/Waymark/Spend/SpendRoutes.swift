import Catalog
import Foundation
import Postgres
import Spend
import WaymarkCore
import Web

/// Spend: `POST|GET /api/v1/spend` (docs/api.md), the spend list, the CSV upload with its preview
/// and confirmation, manual entry spread over a period, and the FX rates page.
struct SpendRoutes {
    let shell: AdminShell
    let database: PostgresPool
    let store: SpendStore
    let fx: FXStore

    static let example = """
        date,traffic_source,campaign,amount,currency,sub_source
        2026-11-20,Push network,,120.50,USD,
        2026-11-20,Push network,Black Friday push,80.00,USD,site-42
        2026-11-21,"Email list, weekly",,15.00,EUR,

        """

    func register(on router: Router) {
        router.post("/api/v1/spend", shell.api(apiPost))
        router.get("/api/v1/spend", shell.api(apiList))
        router.get("/spend", shell.page(listPage))
        router.get(
            "/spend/example.csv",
            { _ in
                Response(
                    status: 200,
                    headers: [
                        ("Content-Type", "text/csv; charset=utf-8"), ("Content-Disposition", "attachment; filename=\"spend-example.csv\""),
                    ],
                    body: Array(SpendRoutes.example.utf8))
            })
        router.get(
            "/spend/upload",
            shell.page { request, actor in
                try shell.render(
                    request, actor: actor, template: "spend/upload", title: "Upload spend (CSV)", context: [:], section: "spend")
            })
        router.post("/spend/upload", shell.page(preview))
        router.post("/spend/uploads/{id}/confirm", shell.page(confirm))
        router.get(
            "/spend/uploads/{id}/progress",
            shell.page { request, actor in
                guard
                    let row = try database.query(
                        """
                        SELECT rows_total, rows_done, state FROM spend_uploads WHERE id = \(try request.pathID()) AND user_id = \(actor.userID)
                        """
                    ).first
                else { throw HTTPError.notFound("no upload") }
                return .jsonObject([
                    "total": try row.decode("rows_total", as: Int.self), "done": try row.decode("rows_done", as: Int.self),
                    "state": row["state"] ?? "",
                ])
            })
        router.get("/spend/new", shell.page { request, actor in try manualPage(request, actor, form: FormState(), split: nil) })
        router.post("/spend/new", shell.page(manual))
        router.get("/fx", shell.page(ratesPage))
        router.post("/fx", shell.page(addRate))
        router.post("/fx/import", shell.page(importRates))
    }

    // MARK: API

    private func apiPost(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        let inputs: [SpendInput]
        if request.contentType == "text/csv" {
            inputs = try SpendInput.fromCSV(Data(request.body))
        } else {
            inputs = try SpendInput.fromJSON(try request.jsonObject())
        }
        guard !inputs.isEmpty else { throw HTTPError.validation(["entries": "is empty"]) }
        let checker = try SpendChecker(database: database, actor: actor)
        let (entries, errors) = checker.check(inputs)
        guard errors.isEmpty else {
            return .jsonObject(
                [
                    "error": [
                        "code": "validation_failed",
                        "message": "\(Set(errors.map(\.row)).count) of \(inputs.count) rows are not valid; nothing was stored",
                    ] as [String: Any],
                    "errors": errors.map(\.json),
                ], status: 422)
        }
        let result = try store.store(entries, origin: request.contentType == "text/csv" ? "csv" : "api", by: actor)
        return .jsonObject(["stored": entries.count, "created": result.created, "replaced": result.replaced])
    }

    private func apiList(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = try SpendFilter(request)
        let paging = try Paging(request)
        let rows = try SpendQueries.list(database, filter: filter, actor: actor, after: paging.after, limit: paging.limit + 1)
        let page = Array(rows.prefix(paging.limit))
        return .jsonObject([
            "data": page.map(\.json), "next_cursor": rows.count > paging.limit ? String(page.last!.id) as Any : NSNull(),
            "totals": try SpendQueries.totals(database, filter: filter, actor: actor),
        ])
    }

    // MARK: pages

    private func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = try SpendFilter(request)
        let rows = try SpendQueries.list(database, filter: filter, actor: actor, after: nil, limit: 500)
        let sources = try TrafficSourceStore(database: database).list(for: actor)
        return try shell.render(
            request, actor: actor, template: "spend/list", title: "Spend",
            context: [
                "entries": rows.map(\.page), "capped": rows.count == 500,
                "totals": try SpendQueries.totals(database, filter: filter, actor: actor).sorted { $0.key < $1.key }.map {
                    ["currency": $0.key, "amount": $0.value]
                },
                "from": filter.from, "to": filter.to,
                "sources": sources.map { ["id": $0.id, "name": $0.name, "selected": $0.id == filter.sourceID] as [String: Any] },
                "can_write": actor.canWrite,
            ], section: "spend")
    }

    /// Checks an uploaded CSV and shows the result of every row; nothing is stored yet.
    private func preview(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        guard let file = try request.multipart().first(where: { $0.name == "file" && $0.filename != nil }), !file.data.isEmpty else {
            return try shell.render(
                request, actor: actor, template: "spend/upload", title: "Upload spend (CSV)",
                context: ["error": "Choose a CSV file to upload."], status: 422, section: "spend")
        }
        let inputs: [SpendInput]
        do {
            inputs = try SpendInput.fromCSV(Data(file.data))
        } catch {
            return try shell.render(
                request, actor: actor, template: "spend/upload", title: "Upload spend (CSV)",
                context: ["error": error.fields["file"].map { "The file \($0)." } ?? error.message], status: 422, section: "spend")
        }
        let (entries, errors) = try SpendChecker(database: database, actor: actor).check(inputs)
        let uploadID: Int64 = try database.query(
            """
            INSERT INTO spend_uploads (user_id, filename, content, rows_total) VALUES (\(actor.userID), \(file.filename ?? ""), \(file.text), \(entries.count))
            RETURNING id
            """)[0].decode("id")
        try database.query("DELETE FROM spend_uploads WHERE created_at < now() - interval '1 day'")
        var errorsByRow: [Int: [SpendRowError]] = [:]
        for e in errors { errorsByRow[e.row, default: []].append(e) }
        let accepted = Dictionary(uniqueKeysWithValues: entries.map { ($0.row, $0) })
        let shown = inputs.filter { errorsByRow[$0.row] != nil }.prefix(1000) + inputs.filter { errorsByRow[$0.row] == nil }.prefix(200)
        var totals: [String: Decimal] = [:]
        for e in entries { totals["\(e.sourceName)|\(e.currency)", default: 0] += Decimal(string: e.amount) ?? 0 }
        return try shell.render(
            request, actor: actor, template: "spend/preview", title: "Check the upload",
            context: [
                "upload_id": uploadID, "filename": file.filename ?? "",
                "rows": inputs.count, "accepted": entries.count, "rejected": Set(errors.map(\.row)).count,
                "all_ok": errors.isEmpty && !entries.isEmpty,
                "results": shown.sorted { $0.row < $1.row }.map { input -> [String: Any] in
                    var item: [String: Any] = [
                        "row": input.row, "date": input.date, "source": input.source, "campaign": input.campaign, "amount": input.amount,
                        "currency": input.currency,
                        "dimensions": input.dimensions.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }.map {
                            "\($0.key)=\($0.value)"
                        }.joined(separator: " "),
                    ]
                    if let errs = errorsByRow[input.row] {
                        item["rejected"] = errs.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
                    } else if accepted[input.row] != nil {
                        item["accepted"] = true
                    }
                    return item
                },
                "more_accepted": max(0, entries.count - 200),
                "totals": totals.sorted { $0.key < $1.key }.map { key, amount in
                    let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
                    return ["source": parts[0], "currency": parts[1], "amount": "\(amount)"]
                },
            ], section: "spend")
    }

    /// Imports a previewed upload (all or nothing), recording progress for the page to poll.
    private func confirm(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        guard
            let row = try database.query(
                """
                UPDATE spend_uploads SET state = 'importing', rows_done = 0 WHERE id = \(id) AND user_id = \(actor.userID) AND state IN ('previewed', 'failed')
                RETURNING content
                """
            ).first
        else { return AdminShell.redirect(to: "/spend", flash: "This upload was imported already (or has expired).") }
        let inputs = try SpendInput.fromCSV(Data((try row.decode("content", as: String.self)).utf8))
        let (entries, errors) = try SpendChecker(database: database, actor: actor).check(inputs)
        guard errors.isEmpty else {
            try database.query("UPDATE spend_uploads SET state = 'failed' WHERE id = \(id)")
            return AdminShell.redirect(
                to: "/spend/upload",
                flash:
                    "Nothing was imported: \(Set(errors.map(\.row)).count) rows are not valid any more. Fix the file and upload it again.")
        }
        do {
            let result = try store.store(entries, origin: "csv", by: actor) { done in
                _ = try? database.query("UPDATE spend_uploads SET rows_done = \(done) WHERE id = \(id)")
            }
            try database.query("UPDATE spend_uploads SET state = 'imported', rows_done = rows_total, content = '' WHERE id = \(id)")
            return AdminShell.redirect(
                to: "/spend", flash: "Imported \(entries.count) rows: \(result.created) new, \(result.replaced) replaced.")
        } catch {
            try? database.query("UPDATE spend_uploads SET state = 'failed' WHERE id = \(id)")
            throw error
        }
    }

    private func manualPage(_ request: Request, _ actor: Actor, form: FormState, split: [(String, String)]?, status: Int = 200) throws
        -> Response
    {
        let sources = try TrafficSourceStore(database: database).list(for: actor).filter { actor.canEdit(workspace: $0.workspaceID) }
        let selected = Int64(form.value("traffic_source_id"))
        let campaigns = try database.query(
            """
            SELECT id, name, traffic_source_id FROM campaigns WHERE archived_at IS NULL AND traffic_source_id = ANY(\(sources.map(\.id))::bigint[]) ORDER BY lower(name)
            """)
        var context: [String: Any] = [
            "values": form.values, "errors": form.errors, "has_errors": !form.errors.isEmpty,
            "sources": sources.map {
                ["id": $0.id, "name": $0.name, "selected": $0.id == selected, "currency": $0.costCurrency] as [String: Any]
            },
            "campaigns": try campaigns.map { r in
                let id: Int64 = try r.decode("id")
                let sourceName = sources.first { $0.id == (try? r.decode("traffic_source_id", as: Int64.self)) }?.name ?? ""
                return ["id": id, "name": "\(sourceName) › \(r["name"] ?? "")", "selected": String(id) == form.value("campaign_id")]
                    as [String: Any]
            },
        ]
        if let split {
            context["split"] = split.map { ["day": $0.0, "amount": $0.1] }
            context["days"] = split.count
        }
        return try shell.render(
            request, actor: actor, template: "spend/manual", title: "Enter spend", context: context, status: status, section: "spend")
    }

    /// An amount for a day or a period, spread evenly over its days (cents that do not divide
    /// go to the last day, so the days add up to the amount exactly); "preview" shows the split.
    private func manual(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        var form = FormState(fields: try request.form())
        let from = form.value("from"), to = form.value("to").nilIfEmpty ?? form.value("from")
        var days: [String] = []
        if let start = Dates.parseDay(from), let end = Dates.parseDay(to) {
            if end < start {
                form.errors["to"] = "is before the start"
            } else if end.timeIntervalSince(start) > 366 * 86400 {
                form.errors["to"] = "makes a period longer than a year"
            } else {
                var day = start
                while day <= end {
                    days.append(Dates.day(day))
                    day = day.addingTimeInterval(86400)
                }
            }
        } else {
            form.errors["from"] = "must be a date"
        }
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
                row: i + 1, date: part.0, source: form.value("traffic_source_id"), campaign: form.value("campaign_id"), amount: part.1,
                currency: form.value("currency"), dimensions: dimensions)
        }
        let (entries, errors) = try SpendChecker(database: database, actor: actor).check(inputs)
        for e in errors {
            form.errors[e.field == "traffic_source" ? "traffic_source_id" : e.field == "campaign" ? "campaign_id" : e.field] = e.message
        }
        if !form.errors.isEmpty { return try manualPage(request, actor, form: form, split: nil, status: 422) }
        guard form.value("action") == "save" else { return try manualPage(request, actor, form: form, split: split) }
        let result = try store.store(entries, origin: "manual", by: actor)
        return AdminShell.redirect(
            to: "/spend", flash: "Saved \(entries.count) days of spend (\(result.created) new, \(result.replaced) replaced).")
    }

    private func ratesPage(_ request: Request, _ actor: Actor) throws -> Response {
        let latest = try database.query(
            """
            SELECT DISTINCT ON (currency) currency, day::text AS day, rate::text AS rate, source FROM fx_rates ORDER BY currency, day DESC
            """)
        let count: Int = try database.query("SELECT count(*)::int AS n FROM fx_rates")[0].decode("n")
        return try shell.render(
            request, actor: actor, template: "spend/rates", title: "FX rates",
            context: [
                "rates": latest.map {
                    ["currency": $0["currency"] ?? "", "day": $0["day"] ?? "", "rate": $0["rate"] ?? "", "source": $0["source"] ?? ""]
                },
                "count": count, "can_write": actor.seesEverything,
            ], section: "spend")
    }

    private func addRate(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireAdmin()
        let form = FormState(fields: try request.form())
        let rate = FXRate(
            day: form.value("date"), currency: form.value("currency").uppercased(),
            rate: form.value("rate").trimmingCharacters(in: .whitespaces))
        if let problem = FXFile.check(rate) { return AdminShell.redirect(to: "/fx", flash: "Not saved: \(problem).") }
        try fx.store([rate], source: "manual")
        return AdminShell.redirect(to: "/fx", flash: "Saved: 1 EUR = \(rate.rate) \(rate.currency) on \(rate.day).")
    }

    private func importRates(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireAdmin()
        guard let file = try request.multipart().first(where: { $0.name == "file" && $0.filename != nil }), !file.data.isEmpty else {
            return AdminShell.redirect(to: "/fx", flash: "Choose an ECB XML or a date,currency,rate CSV file.")
        }
        do {
            let rates = try FXFile.parse(Data(file.data))
            let n = try fx.store(rates, source: file.filename ?? "upload")
            return AdminShell.redirect(to: "/fx", flash: "Imported \(n) rates.")
        } catch let error as FXImportError {
            return AdminShell.redirect(to: "/fx", flash: "Not imported: \(error.description)")
        }
    }
}

/// Splits a total evenly over days to the cent; the remainder goes to the last day.
enum SpendSplit {
    static func evenly(_ total: Decimal, over days: [String]) -> [(String, String)] {
        guard !days.isEmpty else { return [] }
        var each = total / Decimal(days.count)
        var rounded = Decimal()
        NSDecimalRound(&rounded, &each, 2, .down)
        let last = total - rounded * Decimal(days.count - 1)
        return days.enumerated().map { i, day in (day, "\(i == days.count - 1 ? last : rounded)") }
    }
}
