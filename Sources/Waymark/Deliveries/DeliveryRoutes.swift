import Accounts
import Conversions
import Deliveries
import Foundation
import Integrations
import Spend
import Tracking
import WaymarkCore
import Web

/// The Status page (worker heartbeat, database, click and postback spools, delivery queues, failed
/// deliveries with Retry, integrations, feeds, the FX fetch) and the workspace webhooks page.
struct DeliveryRoutes {
    let shell: AdminShell
    let deliveries: DeliveryStore
    let webhooks: WebhookStore
    let status: StatusStore
    let heartbeats: WorkerHeartbeatStore
    let spool: ClickSpool
    let postbackSpool: PostbackSpool
    let workspaces: WorkspaceStore
    let integrations: IntegrationStore
    let feeds: SpendFeedStore

    func register(on router: Router) {
        router.get("/status", shell.page(statusPage))
        router.post("/deliveries/{id}/retry", shell.page(retry))
        router.get("/webhooks", shell.page(webhooksPage))
        router.post("/webhooks", shell.page(createWebhook))
        router.post("/webhooks/{id}/delete", shell.page(deleteWebhook))
    }

    private func statusPage(_ request: Request, _ actor: Actor) throws -> Response {
        let workers = try heartbeats.list()
        let database = status.info()
        return try shell.render(
            request, actor: actor, template: "status/index", title: "Status",
            context: [
                "workers": workers.map(\.page),
                "no_worker": workers.isEmpty,
                "database_version": database?.version ?? "unreachable",
                "database_mb": database?.bytes.map { String(format: "%.1f", $0 / 1_048_576) } ?? "",
                "spool_bytes": spool.pendingBytes,
                "postback_spool_bytes": postbackSpool.pendingBytes,
                "queues": try deliveries.counts(for: actor).map { ["kind": $0.kind, "state": $0.state, "count": $0.count] },
                "failed": try deliveries.failed(for: actor).map(\.page),
                "can_retry": actor.canWrite,
                "feeds": try feeds.failing(for: actor),
                "integrations": try integrations.all(for: actor).map { integrationPage($0.integration, source: $0.sourceName) },
                "fx_fetch": SpendRoutes.fetchContext(try FXFetchStore(database: deliveries.database).state()),
            ], section: "status")
    }

    private func integrationPage(_ i: Integration, source: String) -> [String: Any] {
        [
            "source": source, "source_id": i.sourceID, "provider": integrations.providers[i.provider]?.name ?? i.provider,
            "key": i.provider, "status": i.status.rawValue, "reconnect": i.status == .error, "account": i.accountName ?? "",
            "last_success": i.lastSuccessAt.map(RFC3339.string) ?? "never", "failures": i.consecutiveFailures,
            "last_error": i.lastError ?? "",
        ]
    }

    private func retry(_ request: Request, _ actor: Actor) throws -> Response {
        let id = try request.pathID()
        try deliveries.retry(id, by: actor)
        let back = AdminShell.localPath(FormState(fields: try request.form()).value("back").nilIfEmpty ?? "/status")
        return AdminShell.redirect(to: back, flash: "Delivery \(id) queued again.")
    }

    private func webhooksPage(_ request: Request, _ actor: Actor) throws -> Response {
        try shell.render(
            request, actor: actor, template: "deliveries/webhooks", title: "Webhooks",
            context: [
                "webhooks": try webhooks.list(for: actor).map { $0.page(editable: actor.canEdit(workspace: $0.workspaceID)) },
                "workspaces": try workspaces.list(for: actor).filter { actor.canEdit(workspace: $0.id) }.map {
                    ["id": $0.id, "name": $0.name] as [String: Any]
                },
                "can_write": actor.canWrite,
            ], section: "status")
    }

    private func createWebhook(_ request: Request, _ actor: Actor) throws -> Response {
        let form = FormState(fields: try request.form())
        let url = form.value("url").trimmingCharacters(in: .whitespaces)
        guard let workspaceID = Int64(form.value("workspace_id")) else {
            return AdminShell.redirect(to: "/webhooks", flash: "Choose a workspace.")
        }
        try actor.requireEditable(workspace: workspaceID)
        guard URLCheck.isAbsoluteHTTP(url) else {
            return AdminShell.redirect(to: "/webhooks", flash: "The URL must be an absolute http(s) URL.")
        }
        try webhooks.create(workspaceID: workspaceID, url: url, by: actor)
        return AdminShell.redirect(to: "/webhooks", flash: "Webhook added; its signing secret is shown in the list.")
    }

    private func deleteWebhook(_ request: Request, _ actor: Actor) throws -> Response {
        try webhooks.delete(try request.pathID(), by: actor)
        return AdminShell.redirect(to: "/webhooks", flash: "Webhook deleted.")
    }
}
