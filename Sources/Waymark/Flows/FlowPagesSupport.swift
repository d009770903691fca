import Accounts
import Catalog
import Foundation
import WaymarkCore
import Web

/// What the offer, lander and flow pages share: a form's workspace choices, the workspace
/// names of a list, and the status choices.
struct FlowPagesSupport {
    let workspaces: WorkspaceStore

    /// Public and the workspaces the actor may edit in, plus the selected one (so a viewer's
    /// form still says where the object is).
    func workspaceOptions(_ actor: Actor, selected: Int64?) throws -> [[String: Any]] {
        [["id": "", "name": "Public (every user)", "selected": selected == nil]]
            + (try workspaces.list(for: actor).filter { actor.canEdit(workspace: $0.id) || $0.id == selected }
                .map { ["id": String($0.id), "name": $0.name, "selected": $0.id == selected] })
    }

    /// Workspace id → name, for the lists' Workspace column.
    func names(_ actor: Actor) throws -> [Int64: String] {
        Dictionary(uniqueKeysWithValues: try workspaces.list(for: actor).map { ($0.id, $0.name) })
    }

    static func statuses(_ selected: String) -> [[String: Any]] {
        ["active", "paused"].map { ["value": $0, "selected": $0 == selected] }
    }

    /// The sorted field errors as one list for the top of a form (`name: is required`).
    static func errorList(_ errors: [String: String]) -> [String] {
        errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
    }
}

extension FlowPagesSupport {
    /// The offer, lander and flow pages (their API routes are `OfferRoutes`, `LanderRoutes`, `FlowRoutes`).
    static func register(
        on router: Router, shell: AdminShell, workspaces: WorkspaceStore, offers: OfferStore, landers: LanderStore, flows: FlowStore,
        campaigns: CampaignStore, links: TrackingLinks
    ) {
        let support = FlowPagesSupport(workspaces: workspaces)
        OfferPageRoutes(shell: shell, store: offers, support: support).register(on: router)
        LanderPageRoutes(shell: shell, store: landers, support: support, links: links).register(on: router)
        FlowPageRoutes(shell: shell, store: flows, landers: landers, offers: offers, campaigns: campaigns, support: support)
            .register(on: router)
    }
}
