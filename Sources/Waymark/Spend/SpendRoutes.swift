import Catalog
import Foundation
import Spend
import WaymarkCore
import Web

/// Spend: `POST|GET /api/v1/spend` (docs/api.md), the spend list, the CSV upload with its preview
/// and confirmation (SpendRoutes+Upload), manual entry spread over a period (SpendRoutes+Manual),
/// and the FX rates page.
struct SpendRoutes {
    let shell: AdminShell
    let store: SpendStore
    let uploads: SpendUploadStore
    let fx: FXStore
    let sources: TrafficSourceStore
    var fetches: FXFetchStore { FXFetchStore(database: fx.database) }

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
        router.get("/spend/example.csv", exampleCSV)
        router.get("/spend/upload", shell.page(uploadPage))
        router.post("/spend/upload", shell.page(preview))
        router.post("/spend/uploads/{id}/confirm", shell.page(confirm))
        router.get("/spend/uploads/{id}/progress", shell.page(progress))
        router.get("/spend/new", shell.page(newManual))
        router.post("/spend/new", shell.page(manual))
        router.get("/fx", shell.page(ratesPage))
        router.post("/fx", shell.page(addRate))
        router.post("/fx/import", shell.page(importRates))
        router.post("/fx/fetch", shell.page(fetchNow))
    }

    /// The worker's last FX fetch, for the FX and Status pages.
    static func fetchContext(_ state: FXFetchStore.State?) -> [String: Any] {
        guard let state else { return [:] }
        var context: [String: Any] = [
            "last_attempt": state.lastAttemptAt.map(RFC3339.string) ?? "never",
            "last_success": state.lastSuccessAt.map(RFC3339.string) ?? "never", "stored": state.ratesStored,
        ]
        if let url = state.lastURL { context["url"] = url }
        if let error = state.lastError { context["error"] = error }
        return context
    }

    private func fetchNow(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireAdmin()
        try fetches.request()
        return AdminShell.redirect(to: "/fx", flash: "The worker fetches the ECB's rates now; reload in a few seconds.")
    }

    func checker(for actor: Actor) throws -> SpendChecker { try SpendChecker(actor: actor, sources: sources, fx: fx) }

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
        let (entries, errors) = try checker(for: actor).check(inputs)
        guard errors.isEmpty else {
            let message = "\(Set(errors.map(\.row)).count) of \(inputs.count) rows are not valid; nothing was stored"
            return .json(SpendRejected(error: .init(code: "validation_failed", message: message), errors: errors), status: 422)
        }
        let result = try store.store(entries, origin: request.contentType == "text/csv" ? "csv" : "api", by: actor)
        return .json(SpendStored(stored: entries.count, created: result.created, replaced: result.replaced))
    }

    private func apiList(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = try SpendFilter(request)
        let paging = try Paging(request)
        let rows = try store.list(filter, for: actor, after: paging.after, limit: paging.limit + 1)
        let page = Array(rows.prefix(paging.limit))
        return .json(
            SpendList(
                data: page, nextCursor: rows.count > paging.limit ? page.last.map { String($0.id) } : nil,
                totals: try store.totals(filter, for: actor)))
    }

    // MARK: pages

    private func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = try SpendFilter(request)
        let rows = try store.list(filter, for: actor, after: nil, limit: 500)
        let sources = try sources.list(for: actor)
        return try shell.render(
            request, actor: actor, template: "spend/list", title: "Spend",
            context: [
                "entries": rows.map(\.page), "capped": rows.count == 500,
                "totals": try store.totals(filter, for: actor).sorted { $0.key < $1.key }.map { ["currency": $0.key, "amount": $0.value] },
                "from": filter.from, "to": filter.to,
                "sources": sources.map { ["id": $0.id, "name": $0.name, "selected": $0.id == filter.sourceID] as [String: Any] },
                "can_write": actor.canWrite,
            ], section: "spend")
    }

    private func exampleCSV(_ request: Request) -> Response {
        Response(
            status: 200,
            headers: [("Content-Type", "text/csv; charset=utf-8"), ("Content-Disposition", "attachment; filename=\"spend-example.csv\"")],
            body: Array(SpendRoutes.example.utf8))
    }

    private func ratesPage(_ request: Request, _ actor: Actor) throws -> Response {
        try shell.render(
            request, actor: actor, template: "spend/rates", title: "FX rates",
            context: [
                "rates": try fx.latest().map {
                    ["currency": $0.rate.currency, "day": $0.rate.day, "rate": $0.rate.rate, "source": $0.source]
                },
                "count": try fx.count(), "can_write": actor.seesEverything,
                "fetch": SpendRoutes.fetchContext(try fetches.state()),
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
