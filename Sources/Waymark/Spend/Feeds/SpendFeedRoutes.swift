import Catalog
import Foundation
import Spend
import WaymarkCore
import Web

/// Spend feeds on a traffic source: the API (`/api/v1/traffic-sources/{id}/spend-feeds`) and
/// the source's Spend feeds tab (list, create, edit, pause, delete, run now, preview, history;
/// SpendFeedRoutes+Pages).
struct SpendFeedRoutes {
    let shell: AdminShell
    let store: SpendFeedStore
    let sources: TrafficSourceStore
    /// Previews and the wait for Run now hold one of a few slots (never many click threads).
    let gate: OutboundGate

    func register(on router: Router) {
        let api = "/api/v1/traffic-sources/{id}/spend-feeds"
        router.get(api, shell.api(list))
        router.post(api, shell.api(create))
        router.get(api + "/{feed}", shell.api(show))
        router.patch(api + "/{feed}", shell.api(update))
        router.delete(api + "/{feed}", shell.api(delete))
        router.post(api + "/{feed}/run", shell.api(run))
        router.post(api + "/{feed}/preview", shell.api(previewRun))
        router.get(api + "/{feed}/runs", shell.api(runs))
        let page = "/traffic-sources/{id}/spend-feeds"
        router.get(page, shell.page(feedsPage))
        router.post(page, shell.page(createPage))
        router.get(page + "/{feed}", shell.page(feedPage))
        router.post(page + "/{feed}", shell.page(updatePage))
        router.post(page + "/{feed}/{action}", shell.page(actionPage))
    }

    // MARK: API

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        let source = try sources.get(try request.pathID(), for: actor)
        let (page, next) = try Paging(request).slice(try store.list(sourceID: source.id), id: \.id)
        return .json(Page(data: page, nextCursor: next))
    }

    private func create(_ request: Request, _ actor: Actor) throws -> Response {
        var reader = FieldReader(try request.jsonObject())
        var draft = SpendFeedDraft()
        draft.apply(&reader)
        return .json(try store.create(sourceID: try request.pathID(), draft, by: actor, inputErrors: reader.errors), status: 201)
    }

    private func show(_ request: Request, _ actor: Actor) throws -> Response {
        .json(try feed(request, actor))
    }

    private func update(_ request: Request, _ actor: Actor) throws -> Response {
        let feed = try feed(request, actor)
        var reader = FieldReader(try request.jsonObject())
        var draft = SpendFeedDraft(feed)
        draft.apply(&reader)
        return .json(try store.update(feed, draft, by: actor, inputErrors: reader.errors))
    }

    private func delete(_ request: Request, _ actor: Actor) throws -> Response {
        try store.delete(try feed(request, actor), by: actor)
        return Response(status: 204)
    }

    private func run(_ request: Request, _ actor: Actor) throws -> Response {
        let feed = try feed(request, actor)
        try actor.requireEditable(workspace: feed.workspaceID)
        guard let run = try runNow(feed) else { return .json(SpendFeedQueued(), status: 202) }
        return .json(run)
    }

    private func previewRun(_ request: Request, _ actor: Actor) throws -> Response {
        let feed = try feed(request, actor)
        try actor.requireEditable(workspace: feed.workspaceID)
        return .json(try preview(feed))
    }

    private func runs(_ request: Request, _ actor: Actor) throws -> Response {
        .json(Page(data: try store.runs(try feed(request, actor).id), nextCursor: nil))
    }

    // MARK: shared

    func feed(_ request: Request, _ actor: Actor) throws -> SpendFeed {
        try store.get(try request.pathID("feed"), sourceID: try request.pathID(), for: actor)
    }

    /// Run now goes to the worker; this request waits for it only while it holds one of the
    /// gate's few slots, else it answers at once that the run is queued.
    func runNow(_ feed: SpendFeed) throws -> SpendFeedRun? {
        guard let slot = gate.take() else {
            _ = try store.requestRun(feed, wait: 0)
            return nil
        }
        defer { slot.release() }
        return try store.requestRun(feed, wait: gate.seconds)
    }

    /// A preview shows rows without storing them, so it runs here, in a gate slot, in bounded time.
    func preview(_ feed: SpendFeed) throws -> SpendFeedRunner.Outcome {
        try gate.run { deadline in try store.run(feed, trigger: "preview", deadline: deadline) }
    }
}
