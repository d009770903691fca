import Foundation
import Postgres
import WaymarkCore
import Web

/// Offers in PostgreSQL; every call applies the actor's workspace rules (as for traffic sources).
public struct OfferStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public static let columns = """
        id, workspace_id, name, url, payout::text AS payout, currency, affiliate_network, daily_cap, status, created_at, updated_at
        """

    public static func decode(_ row: PostgresRow) throws -> Offer {
        Offer(
            id: try row.decode("id"), workspaceID: try row.decode("workspace_id", as: Int64?.self), name: try row.decode("name"),
            url: try row.decode("url"), payout: Money.trim(try row.decode("payout")), currency: try row.decode("currency"),
            affiliateNetwork: try row.decode("affiliate_network", as: String?.self), dailyCap: try row.decode("daily_cap", as: Int?.self),
            status: try row.decode("status"), createdAt: try row.decode("created_at"), updatedAt: try row.decode("updated_at"))
    }

    /// Offers the actor sees, optionally only one workspace's (Public ones always show).
    public func list(for actor: Actor, workspace: Int64? = nil) throws -> [Offer] {
        try database.query(
            """
            SELECT \(unescaped: OfferStore.columns) FROM offers
            WHERE archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("workspace_id"))
              AND (\(workspace)::bigint IS NULL OR workspace_id IS NULL OR workspace_id = \(workspace))
            ORDER BY lower(name), id
            """
        ).map(OfferStore.decode)
    }

    /// Every live offer, whoever sees it (the campaign cache's view).
    public static func all(on c: PostgresConnection) throws -> [Offer] {
        try c.query("SELECT \(unescaped: OfferStore.columns) FROM offers WHERE archived_at IS NULL").map(OfferStore.decode)
    }

    /// One offer, or 404 when it does not exist for this actor.
    public func get(_ id: Int64, for actor: Actor) throws -> Offer {
        guard
            let row = try database.query("SELECT \(unescaped: OfferStore.columns) FROM offers WHERE id = \(id) AND archived_at IS NULL")
                .first
        else { throw HTTPError.notFound("no offer \(id)") }
        let offer = try OfferStore.decode(row)
        try actor.requireVisible(workspace: offer.workspaceID)
        return offer
    }

    public func create(_ draft: OfferDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> Offer {
        try validate(draft, actor: actor, inputErrors: inputErrors)
        return try database.transaction { c in
            let row = try c.query(
                """
                INSERT INTO offers (workspace_id, name, url, payout, currency, affiliate_network, daily_cap, status)
                VALUES (\(draft.workspaceID), \(draft.name.trimmingCharacters(in: .whitespaces)), \(draft.url), \(draft.payout)::numeric,
                        \(draft.currency), \(draft.affiliateNetwork), \(draft.dailyCap), \(draft.status))
                RETURNING \(unescaped: OfferStore.columns)
                """
            ).first!
            let offer = try OfferStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "offer", objectID: offer.id, workspaceID: offer.workspaceID,
                new: OfferStore.audit(offer))
            return offer
        }
    }

    public func update(_ id: Int64, _ draft: OfferDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> Offer {
        let old = try get(id, for: actor)
        try actor.requireEditable(workspace: old.workspaceID)
        try validate(draft, actor: actor, inputErrors: inputErrors)
        return try database.transaction { c in
            if FlowStore.isMove(old.workspaceID, to: draft.workspaceID) {
                try FlowStore.requireUnused(on: c, kind: "offer", id: id, actor: actor, movingTo: draft.workspaceID)
            }
            let row = try c.query(
                """
                UPDATE offers SET workspace_id = \(draft.workspaceID), name = \(draft.name.trimmingCharacters(in: .whitespaces)),
                  url = \(draft.url), payout = \(draft.payout)::numeric, currency = \(draft.currency),
                  affiliate_network = \(draft.affiliateNetwork), daily_cap = \(draft.dailyCap), status = \(draft.status), updated_at = now()
                WHERE id = \(id)
                RETURNING \(unescaped: OfferStore.columns)
                """
            ).first!
            let offer = try OfferStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "offer", objectID: id, workspaceID: offer.workspaceID,
                old: OfferStore.audit(old), new: OfferStore.audit(offer))
            return offer
        }
    }

    /// Archives an offer; refused (409, naming them) while flows use it.
    public func delete(_ id: Int64, by actor: Actor) throws {
        let offer = try get(id, for: actor)
        try actor.requireEditable(workspace: offer.workspaceID)
        try database.transaction { c in
            try FlowStore.requireUnused(on: c, kind: "offer", id: id, actor: actor)
            try c.query("UPDATE offers SET archived_at = now() WHERE id = \(id)")
            try AuditLog.record(
                c, actor: actor, action: "delete", objectType: "offer", objectID: id, workspaceID: offer.workspaceID,
                old: OfferStore.audit(offer))
        }
    }

    /// Field errors (with `inputErrors` from reading the body) → 422 listing every bad field.
    public func validate(_ draft: OfferDraft, actor: Actor, inputErrors: [String: String] = [:]) throws {
        var errors = draft.check()
        errors.merge(inputErrors) { _, input in input }
        errors.merge(try WorkspaceAccessStore.errors(draft.workspaceID, actor: actor, database: database)) { a, _ in a }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
    }

    /// Those of `ids` a flow in `workspace` may use (live, seen by the actor, Public or in `workspace`).
    public func usable(_ ids: [Int64], workspace: Int64?, for actor: Actor) throws -> Set<Int64> {
        try WorkspaceAccessStore.usable("offers", ids, workspace: workspace, actor: actor, database: database)
    }

    static func audit(_ o: Offer) -> [String: Any] {
        CampaignStore.auditValue(OfferJSON(o)) as? [String: Any] ?? [:]
    }
}
