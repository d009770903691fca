import Catalog
import Deliveries
import Foundation
import Postgres
import WaymarkCore
import Web

/// Test, Sync Now / Full Sync, pause, resume, disconnect.
extension IntegrationActions {
    public func requireEditable(_ integration: Integration, _ actor: Actor) throws {
        _ = try sources.get(integration.sourceID, for: actor)
        try actor.requireEditable(workspace: integration.workspaceID)
    }

    /// Test Connection: a live call; the result is recorded in the history and returned.
    public func test(_ integration: Integration, actor: Actor) throws -> (ok: Bool, message: String) {
        try requireEditable(integration, actor)
        guard integration.status != .notConnected, let provider = store.providers[integration.provider] else {
            throw HTTPError.conflict("connect first")
        }
        let sync = try store.startSync(integration.id, kind: "test")
        do {
            let message = try provider.test(try store.context(integration))
            try store.finishSync(sync, status: "success")
            return (true, message)
        } catch let failure as ProviderFailure {
            if failure.kind == .authorization { try store.authorizationLost(integration.id, failure.message) }
            try store.finishSync(sync, status: "failed", error: failure.message)
            return (false, failure.message)
        }
    }

    /// Sync Now / Force Full Sync: the worker picks it up within seconds.
    public func requestSync(_ integration: Integration, full: Bool, actor: Actor) throws {
        try requireEditable(integration, actor)
        guard integration.status == .active else {
            throw HTTPError.conflict("syncs run only while active (now \(integration.status.rawValue))")
        }
        guard integration.pulls, store.providers[integration.provider]?.usesOAuth == true else {
            throw HTTPError.conflict("this integration does not pull")
        }
        try database.transaction { c in
            try store.requestSync(integration.id, full: full, on: c)
            try AuditLog.record(
                c, actor: actor, action: full ? "integration.full_sync" : "integration.sync", objectType: "integration",
                objectID: integration.id, workspaceID: integration.workspaceID)
        }
    }

    public func pause(_ integration: Integration, actor: Actor) throws { try move(integration, .pause, "integration.pause", actor) }
    public func resume(_ integration: Integration, actor: Actor) throws { try move(integration, .resume, "integration.resume", actor) }

    public func move(_ integration: Integration, _ event: IntegrationStatus.Event, _ action: String, _ actor: Actor) throws {
        try requireEditable(integration, actor)
        try database.transaction { c in
            guard try store.transition(integration, event, on: c) else {
                throw HTTPError.conflict("not possible while \(integration.status.rawValue)")
            }
            // The pushes held while paused go now.
            if event == .resume { try store.resumeWork(integration.id, on: c) }
            try AuditLog.record(
                c, actor: actor, action: action, objectType: "integration", objectID: integration.id, workspaceID: integration.workspaceID)
        }
    }

    /// Disconnect: revoke where the provider allows (best effort), then drop every token.
    public func disconnect(_ integration: Integration, actor: Actor) throws {
        try requireEditable(integration, actor)
        guard integration.status != .notConnected else { throw HTTPError.conflict("not connected") }
        if let provider = store.providers[integration.provider], let context = try? store.context(integration) {
            try? provider.revoke(context)
        }
        try database.transaction { c in
            try store.disconnect(integration.id, on: c)
            try AuditLog.record(
                c, actor: actor, action: "integration.disconnect", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID,
                old: ["status": integration.status.rawValue, "account_id": integration.accountID ?? NSNull()])
        }
    }
}
