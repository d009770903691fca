import Catalog
import Foundation
import Spend
import WaymarkCore
import Web

/// The source's Spend feeds tab: the list with the new-feed form, a feed's form with its run
/// history, and the buttons (run now, preview, delete, pause, resume).
extension SpendFeedRoutes {
    func feedsPage(_ request: Request, _ actor: Actor) throws -> Response {
        let source = try sources.get(try request.pathID(), for: actor)
        return try formPage(request, actor, source, feed: nil, draft: SpendFeedDraft(), errors: [:])
    }

    func createPage(_ request: Request, _ actor: Actor) throws -> Response {
        let source = try sources.get(try request.pathID(), for: actor)
        let (draft, inputErrors) = try SpendFeedRoutes.formDraft(request, SpendFeedDraft())
        do {
            let feed = try store.create(sourceID: source.id, draft, by: actor, inputErrors: inputErrors)
            return AdminShell.redirect(to: "/traffic-sources/\(source.id)/spend-feeds/\(feed.id)", flash: "Spend feed \(feed.name) saved.")
        } catch let error as HTTPError where error.status == 422 {
            return try formPage(request, actor, source, feed: nil, draft: draft, errors: error.fields, status: 422)
        }
    }

    func feedPage(_ request: Request, _ actor: Actor) throws -> Response {
        let feed = try feed(request, actor)
        let source = try sources.get(feed.sourceID, for: actor)
        return try formPage(request, actor, source, feed: feed, draft: SpendFeedDraft(feed), errors: [:])
    }

    func updatePage(_ request: Request, _ actor: Actor) throws -> Response {
        let feed = try feed(request, actor)
        let source = try sources.get(feed.sourceID, for: actor)
        let (draft, inputErrors) = try SpendFeedRoutes.formDraft(request, SpendFeedDraft(feed))
        do {
            _ = try store.update(feed, draft, by: actor, inputErrors: inputErrors)
            return AdminShell.redirect(to: "/traffic-sources/\(source.id)/spend-feeds/\(feed.id)", flash: "Spend feed saved.")
        } catch let error as HTTPError where error.status == 422 {
            return try formPage(request, actor, source, feed: feed, draft: draft, errors: error.fields, status: 422)
        }
    }

    /// `POST …/spend-feeds/{feed}/{action}`: the feed page's buttons.
    func actionPage(_ request: Request, _ actor: Actor) throws -> Response {
        let feed = try feed(request, actor)
        try actor.requireEditable(workspace: feed.workspaceID)
        switch request.parameters["action"] ?? "" {
        case "run": return try runPage(feed)
        case "preview": return try previewPage(request, actor, feed)
        case "delete": return try deletePage(actor, feed)
        case "pause": return try setStatus(actor, feed, "paused")
        case "resume": return try setStatus(actor, feed, "active")
        default: throw HTTPError.notFound()
        }
    }

    private func back(_ feed: SpendFeed) -> String { "/traffic-sources/\(feed.sourceID)/spend-feeds/\(feed.id)" }

    private func runPage(_ feed: SpendFeed) throws -> Response {
        guard let run = try runNow(feed) else {
            return AdminShell.redirect(to: back(feed), flash: "The run is queued: the worker runs it now (see the run history).")
        }
        return AdminShell.redirect(
            to: back(feed),
            flash: run.succeeded
                ? "Imported \(run.rowsImported) rows for \(run.window.from ?? "") – \(run.window.to ?? "")."
                : "The run failed: \(run.error ?? "") Nothing was changed.")
    }

    private func previewPage(_ request: Request, _ actor: Actor, _ feed: SpendFeed) throws -> Response {
        let source = try sources.get(feed.sourceID, for: actor)
        return try formPage(request, actor, source, feed: feed, draft: SpendFeedDraft(feed), errors: [:], preview: try preview(feed))
    }

    private func deletePage(_ actor: Actor, _ feed: SpendFeed) throws -> Response {
        try store.delete(feed, by: actor)
        return AdminShell.redirect(
            to: "/traffic-sources/\(feed.sourceID)/spend-feeds", flash: "Spend feed deleted (its imported spend stays).")
    }

    private func setStatus(_ actor: Actor, _ feed: SpendFeed, _ status: String) throws -> Response {
        var draft = SpendFeedDraft(feed)
        draft.status = status
        _ = try store.update(feed, draft, by: actor)
        return AdminShell.redirect(to: back(feed), flash: status == "paused" ? "Paused." : "Resumed: the next run is scheduled.")
    }

    private func formPage(
        _ request: Request, _ actor: Actor, _ source: TrafficSource, feed: SpendFeed?, draft: SpendFeedDraft,
        errors: [String: String], status: Int = 200, preview: SpendFeedRunner.Outcome? = nil
    ) throws -> Response {
        var context: [String: Any] = [
            "source": ["id": source.id, "name": source.name],
            "source_tabs": ["tabs": IntegrationRoutes.tabs(source.id, active: "feeds")],
            "feeds": try store.list(sourceID: source.id).map { SpendFeedRoutes.listItem($0, selected: $0.id == feed?.id) },
            "values": SpendFeedRoutes.values(draft),
            "daily": draft.dailyAt != nil,
            "methods": ["GET", "POST"].map { ["value": $0, "selected": $0 == draft.method] },
            "formats": ["csv", "json"].map { ["value": $0, "selected": $0 == draft.format] },
            "date_formats": SpendFeedDraft.dateFormats.map { ["value": $0, "selected": $0 == draft.dateFormat] },
            "errors": errors.sorted { $0.key < $1.key }.map { "\($0.key.replacingOccurrences(of: "_", with: " ")) \($0.value)" },
            "has_errors": !errors.isEmpty,
            "can_edit": actor.canEdit(workspace: source.workspaceID),
            "action": feed.map { "/traffic-sources/\(source.id)/spend-feeds/\($0.id)" } ?? "/traffic-sources/\(source.id)/spend-feeds",
        ]
        if let feed {
            context["feed"] = SpendFeedRoutes.feedContext(feed)
            context["runs"] = try store.runs(feed.id, limit: 30).map(SpendFeedRoutes.runContext)
        }
        if let preview { context["preview"] = SpendFeedRoutes.previewContext(preview) }
        return try shell.render(
            request, actor: actor, template: "spend_feeds/form",
            title: feed.map { "Spend feed \($0.name)" } ?? "Spend feeds of \(source.name)",
            context: context, status: status, section: "sources")
    }
}
