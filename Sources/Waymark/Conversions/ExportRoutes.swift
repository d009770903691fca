import Accounts
import Conversions
import Foundation
import Logging
import WaymarkCore
import Web

/// Settings → Export: a workspace's raw clicks or conversions for a date range (the workspace's
/// days) as a CSV download, streamed from a cursor (`ExportStore`). Anyone who sees the
/// workspace may export it; at most 400 days at once.
struct ExportRoutes {
    let shell: AdminShell
    let store: ExportStore
    let workspaces: WorkspaceStore
    let logger: Logger
    static let maxDays = 400

    func register(on router: Router) {
        router.get("/export", shell.page(page))
        router.get("/export/clicks.csv", shell.page { try download(.clicks, $0, $1) })
        router.get("/export/conversions.csv", shell.page { try download(.conversions, $0, $1) })
    }

    private func page(_ request: Request, _ actor: Actor) throws -> Response {
        let today = String(RFC3339.string(from: Date()).prefix(10))
        let monthAgo = String(RFC3339.string(from: Date().addingTimeInterval(-29 * 86400)).prefix(10))
        return try shell.render(
            request, actor: actor, template: "settings/export", title: "Export",
            context: [
                "workspaces": try workspaces.list(for: actor).map {
                    ["id": $0.id, "name": $0.name, "timezone": $0.timezone] as [String: Any]
                },
                "from": monthAgo, "to": today, "max_days": ExportRoutes.maxDays,
            ], section: "settings")
    }

    private func download(_ kind: ExportStore.Kind, _ request: Request, _ actor: Actor) throws -> Response {
        guard let id = request.queryValue("workspace_id").flatMap({ Int64($0) }) else {
            throw HTTPError.validation(["workspace_id": "choose a workspace"])
        }
        let workspace = try workspaces.get(id, for: actor)
        let from = request.queryValue("from") ?? "", to = request.queryValue("to") ?? ""
        guard let start = Dates.parseDay(from) else { throw HTTPError.validation(["from": "a date YYYY-MM-DD"]) }
        guard let end = Dates.parseDay(to) else { throw HTTPError.validation(["to": "a date YYYY-MM-DD"]) }
        guard start <= end else { throw HTTPError.validation(["to": "on or after the first day"]) }
        guard end.timeIntervalSince(start) < Double(ExportRoutes.maxDays) * 86400 else {
            throw HTTPError.validation(["to": "at most \(ExportRoutes.maxDays) days at once"])
        }
        let name = "waymark-\(kind.rawValue)-workspace-\(id)-\(from)-\(to).csv"
        var response = Response(
            status: 200,
            headers: [("Content-Type", "text/csv; charset=utf-8"), ("Content-Disposition", "attachment; filename=\"\(name)\"")])
        response.setHeader("Cache-Control", "no-store")
        let (store, logger, zone) = (self.store, self.logger, workspace.timezone)
        response.stream = { write in
            do {
                try store.stream(kind, workspaceID: id, from: from, to: to, zone: zone, write: write)
            } catch {
                // The status is sent already: the file ends short, and the log says why.
                logger.error("export of \(kind.rawValue) for workspace \(id) stopped: \(error)")
            }
        }
        return response
    }
}
