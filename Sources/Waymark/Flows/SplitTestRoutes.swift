import Catalog
import Foundation
import Reports
import WaymarkCore
import Web

/// `GET /flows/{id}/split-test?path=N`: one path of a flow (0-based, default the first), its
/// landers and its offers side by side over a period (default the last 30 days), with the
/// probability that each has the best CR. The numbers are the report engine's, grouped by
/// lander and by offer and filtered to the flow and path.
struct SplitTestRoutes {
    let shell: AdminShell
    let reports: ReportRoutes
    let flows: FlowStore
    let landers: LanderStore
    let offers: OfferStore

    func register(on router: Router) {
        router.get("/flows/{id}/split-test", shell.page(splitTest))
    }

    private func splitTest(_ request: Request, _ actor: Actor) throws -> Response {
        let flow = try flows.get(try request.pathID(), for: actor)
        let index = try SplitTestRoutes.pathIndex(request)
        guard flow.paths.indices.contains(index) else { throw HTTPError.notFound("flow \(flow.id) has no path \(index)") }
        let path = flow.paths[index]
        var (r, _) = try reports.pageRequest(SplitTestRoutes.periodRequest(request), actor)
        if let workspace = flow.workspaceID { r.workspaceID = workspace }
        r.flowID = flow.id
        r.flowPath = index
        r.groups = [.lander]
        let byLander = try reports.engine.run(r, actor: actor)
        r.groups = [.offer]
        let byOffer = try reports.engine.run(r, actor: actor)
        let landerNames = Dictionary(try landers.list(for: actor).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let offerNames = Dictionary(try offers.list(for: actor).map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let landerTable = SplitTestPage(kind: .lander, configured: path.landers, rows: byLander.rows, names: landerNames)
        let offerTable = SplitTestPage(kind: .offer, configured: path.offers, rows: byOffer.rows, names: offerNames)
        let preset = SplitTestRoutes.presetName(request)
        return try shell.render(
            request, actor: actor, template: "flows/split_test", title: "Split test: \(flow.name)",
            context: [
                "flow": ["id": flow.id, "name": flow.name], "path_name": path.name, "path": index,
                "paths": flow.paths.enumerated().map { i, p in
                    ["name": p.name, "href": "/flows/\(flow.id)/split-test?path=\(i)", "active": i == index] as [String: Any]
                },
                "direct": path.landers.isEmpty, "landers": landerTable.context, "offers": offerTable.context,
                "from": r.from, "to": r.to, "tz": r.timeZone, "currency": r.currency,
                "presets": ReportRoutes.presets.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == preset] },
                "custom": preset == "custom", "draws": "20 000", "threshold": SplitTestPage.percent(SplitTest.decidedAt),
                "warnings": byLander.warnings,
            ], section: "flows")
    }

    /// `path`: a path's index, 0 for the first (the default).
    static func pathIndex(_ request: Request) throws(HTTPError) -> Int {
        guard let text = request.queryValue("path"), !text.isEmpty else { return 0 }
        guard text.utf8.count <= 4, let index = Int(text), index >= 0 else {
            throw HTTPError.badRequest("path must be a path's index (0 for the first)", field: "path")
        }
        return index
    }

    /// The page's period as the report page reads it: a preset (default the last 30 days) or from/to.
    static func presetName(_ request: Request) -> String {
        request.queryValue("preset").flatMap { $0.isEmpty ? nil : $0 } ?? (request.queryValue("from") == nil ? "last30" : "custom")
    }

    /// The report page's request for this page's period controls only.
    static func periodRequest(_ request: Request) -> Request {
        var query = request.query.filter { ["from", "to", "tz"].contains($0.0) }
        query.append(("preset", presetName(request)))
        query.append(("group_by", "lander"))
        return Request(method: "GET", path: request.path, query: URLEncoding.formString(query))
    }
}
