import Foundation
import Spend
import WaymarkCore
import Web

/// The CSV upload: the form, a preview of every row's check (nothing stored yet), the
/// confirmation that imports it all or nothing, and the progress the page polls meanwhile.
extension SpendRoutes {
    func uploadPage(_ request: Request, _ actor: Actor) throws -> Response {
        try shell.render(request, actor: actor, template: "spend/upload", title: "Upload spend (CSV)", context: [:], section: "spend")
    }

    /// Checks an uploaded CSV and shows the result of every row; nothing is stored yet.
    func preview(_ request: Request, _ actor: Actor) throws -> Response {
        guard actor.canWrite else { throw HTTPError.forbidden("your role (viewer) cannot change anything") }
        guard let file = try request.multipart().first(where: { $0.name == "file" && $0.filename != nil }), !file.data.isEmpty else {
            return try uploadError(request, actor, "Choose a CSV file to upload.")
        }
        let inputs: [SpendInput]
        do {
            inputs = try SpendInput.fromCSV(Data(file.data))
        } catch {
            return try uploadError(request, actor, error.fields["file"].map { "The file \($0)." } ?? error.message)
        }
        let (entries, errors) = try checker(for: actor).check(inputs)
        let uploadID = try uploads.create(userID: actor.userID, filename: file.filename ?? "", content: file.text, rows: entries.count)
        var totals: [String: Decimal] = [:]
        for e in entries { totals["\(e.sourceName)|\(e.currency)", default: 0] += Decimal(string: e.amount) ?? 0 }
        return try shell.render(
            request, actor: actor, template: "spend/preview", title: "Check the upload",
            context: [
                "upload_id": uploadID, "filename": file.filename ?? "",
                "rows": inputs.count, "accepted": entries.count, "rejected": Set(errors.map(\.row)).count,
                "all_ok": errors.isEmpty && !entries.isEmpty,
                "results": SpendRoutes.results(inputs, entries: entries, errors: errors),
                "more_accepted": max(0, entries.count - 200),
                "totals": totals.sorted { $0.key < $1.key }.map { key, amount in
                    let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
                    return ["source": parts[0], "currency": parts[1], "amount": "\(amount)"]
                },
            ], section: "spend")
    }

    private func uploadError(_ request: Request, _ actor: Actor, _ message: String) throws -> Response {
        try shell.render(
            request, actor: actor, template: "spend/upload", title: "Upload spend (CSV)", context: ["error": message], status: 422,
            section: "spend")
    }

    /// The rows the preview shows: up to 1000 rejected ones and 200 accepted ones, in file order.
    static func results(_ inputs: [SpendInput], entries: [SpendEntry], errors: [SpendRowError]) -> [[String: Any]] {
        var errorsByRow: [Int: [SpendRowError]] = [:]
        for e in errors { errorsByRow[e.row, default: []].append(e) }
        let accepted = Set(entries.map(\.row))
        let shown = inputs.filter { errorsByRow[$0.row] != nil }.prefix(1000) + inputs.filter { errorsByRow[$0.row] == nil }.prefix(200)
        return shown.sorted { $0.row < $1.row }.map { input -> [String: Any] in
            var item: [String: Any] = [
                "row": input.row, "date": input.date, "source": input.source, "campaign": input.campaign, "amount": input.amount,
                "currency": input.currency,
                "dimensions": input.dimensions.sorted { $0.key < $1.key }.filter { !$0.value.isEmpty }.map { "\($0.key)=\($0.value)" }
                    .joined(separator: " "),
            ]
            if let errs = errorsByRow[input.row] {
                item["rejected"] = errs.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
            } else if accepted.contains(input.row) {
                item["accepted"] = true
            }
            return item
        }
    }

    /// Imports a previewed upload (all or nothing), recording progress for the page to poll.
    func confirm(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        guard let content = try uploads.beginImport(id, userID: actor.userID) else {
            return AdminShell.redirect(to: "/spend", flash: "This upload was imported already (or has expired).")
        }
        let inputs = try SpendInput.fromCSV(Data(content.utf8))
        let (entries, errors) = try checker(for: actor).check(inputs)
        guard errors.isEmpty else {
            try uploads.markFailed(id)
            return AdminShell.redirect(
                to: "/spend/upload",
                flash:
                    "Nothing was imported: \(Set(errors.map(\.row)).count) rows are not valid any more. Fix the file and upload it again.")
        }
        do {
            let result = try store.store(entries, origin: "csv", by: actor) { done in uploads.recordProgress(id, done: done) }
            try uploads.markImported(id)
            return AdminShell.redirect(
                to: "/spend", flash: "Imported \(entries.count) rows: \(result.created) new, \(result.replaced) replaced.")
        } catch {
            try? uploads.markFailed(id)
            throw error
        }
    }

    func progress(_ request: Request, _ actor: Actor) throws -> Response {
        guard let progress = try uploads.progress(try request.pathID(), userID: actor.userID) else {
            throw HTTPError.notFound("no upload")
        }
        return .json(progress)
    }
}
