import Foundation
import Postgres
import WaymarkCore
import Web

/// Traffic sources in PostgreSQL; every call applies the actor's workspace rules.
public struct TrafficSourceStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public static let columns = """
        id, workspace_id, name, template, cost_currency, click_id_param, parameters::text AS parameters,
        postback_enabled, postback_url, capi_integration_id, notes, created_at, postback_send,
        postback_payout_percent::text AS postback_payout_percent, array_to_string(postback_events, ',') AS postback_events,
          postback_reversals
        """

    public static func decode(_ row: PostgresRow) throws -> TrafficSource {
        let parameters = (try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data((row["parameters"] ?? "[]").utf8))) ?? []
        return TrafficSource(
            id: try row.decode("id"), workspaceID: try row.decode("workspace_id", as: Int64?.self), name: try row.decode("name"),
            template: try row.decode("template", as: String?.self), costCurrency: try row.decode("cost_currency"),
            clickIDParam: try row.decode("click_id_param", as: String?.self), parameters: parameters,
            postbackEnabled: try row.decode("postback_enabled"), postbackURL: try row.decode("postback_url", as: String?.self),
            sendBack: SendBackRules(
                send: try row.decode("postback_send"), events: (row["postback_events"] ?? "").split(separator: ",").map(String.init),
                reversals: try row.decode("postback_reversals")),
            payoutPercent: Money.trim(try row.decode("postback_payout_percent")),
            capiIntegrationID: try row.decode("capi_integration_id", as: Int64?.self), notes: try row.decode("notes"),
            createdAt: try row.decode("created_at"))
    }

    /// Sources the actor sees, optionally only one workspace's (Public ones always show).
    public func list(for actor: Actor, workspace: Int64? = nil) throws -> [TrafficSource] {
        try database.query(
            """
            SELECT \(unescaped: TrafficSourceStore.columns) FROM traffic_sources
            WHERE archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("workspace_id"))
              AND (\(workspace)::bigint IS NULL OR workspace_id IS NULL OR workspace_id = \(workspace))
            ORDER BY lower(name), id
            """
        ).map(TrafficSourceStore.decode)
    }

    /// One source, or 404 when it does not exist for this actor.
    public func get(_ id: Int64, for actor: Actor) throws -> TrafficSource {
        guard
            let row = try database.query(
                """
                SELECT \(unescaped: TrafficSourceStore.columns) FROM traffic_sources WHERE id = \(id) AND archived_at IS NULL
                """
            ).first
        else { throw HTTPError.notFound("no traffic source \(id)") }
        let source = try TrafficSourceStore.decode(row)
        try actor.requireVisible(workspace: source.workspaceID)
        return source
    }

    /// A source's name and parameters, archived or not (reports still cover it), when the
    /// actor sees it.
    public func label(_ id: Int64, for actor: Actor) throws -> (name: String, parameters: [TrafficSource.Parameter])? {
        guard
            let row = try database.query(
                """
                SELECT name, parameters::text AS p FROM traffic_sources WHERE id = \(id)
                  AND \(fragment: actor.visibleWorkspaces("workspace_id"))
                """
            ).first
        else { return nil }
        let parameters = (try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data((row["p"] ?? "[]").utf8))) ?? []
        return (row["name"] ?? "", parameters)
    }

    /// Stores a new source; returns it with the warnings to show.
    public func create(_ draft: TrafficSourceDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> (
        TrafficSource, [String]
    ) {
        let warnings = try validate(draft, actor: actor, inputErrors: inputErrors)
        let parameters = TrafficSourceStore.assignSlots(draft.parameters, keeping: [])
        return try database.transaction { c in
            let row = try c.query(
                """
                INSERT INTO traffic_sources (workspace_id, name, template, cost_currency, click_id_param, parameters,
                                             postback_enabled, postback_url, capi_integration_id, notes, postback_send,
                                             postback_payout_percent, postback_events, postback_reversals)
                VALUES (\(draft.workspaceID), \(draft.name.trimmingCharacters(in: .whitespaces)), \(draft.template), \(draft.costCurrency),
                        \(draft.clickIDParam), \(TrafficSourceStore.json(parameters))::jsonb, \(draft.postbackEnabled),
                          \(draft.postbackURL),
                        \(draft.capiIntegrationID), \(draft.notes), \(draft.sendBack.send), \(draft.payoutPercent)::numeric,
                        \(draft.sendBack.events)::text[], \(draft.sendBack.reversals))
                RETURNING \(unescaped: TrafficSourceStore.columns)
                """
            ).first!
            let source = try TrafficSourceStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "traffic_source", objectID: source.id,
                workspaceID: source.workspaceID, new: TrafficSourceStore.audit(source))
            return (source, warnings)
        }
    }

    public func update(_ id: Int64, _ draft: TrafficSourceDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> (
        TrafficSource, [String]
    ) {
        let old = try get(id, for: actor)
        try actor.requireEditable(workspace: old.workspaceID)
        let warnings = try validate(draft, actor: actor, inputErrors: inputErrors)
        let parameters = TrafficSourceStore.assignSlots(draft.parameters, keeping: old.parameters)
        return try database.transaction { c in
            let row = try c.query(
                """
                UPDATE traffic_sources SET workspace_id = \(draft.workspaceID), name = \(draft.name.trimmingCharacters(in: .whitespaces)),
                  cost_currency = \(draft.costCurrency), click_id_param = \(draft.clickIDParam),
                  parameters = \(TrafficSourceStore.json(parameters))::jsonb, postback_enabled = \(draft.postbackEnabled),
                  postback_url = \(draft.postbackURL),
                  postback_send = \(draft.sendBack.send), postback_payout_percent = \(draft.payoutPercent)::numeric,
                  postback_events = \(draft.sendBack.events)::text[], postback_reversals = \(draft.sendBack.reversals),
                    capi_integration_id = \(draft.capiIntegrationID), notes = \(draft.notes), updated_at = now()
                WHERE id = \(id)
                RETURNING \(unescaped: TrafficSourceStore.columns)
                """
            ).first!
            let source = try TrafficSourceStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "traffic_source", objectID: id,
                workspaceID: source.workspaceID, old: TrafficSourceStore.audit(old), new: TrafficSourceStore.audit(source))
            return (source, warnings)
        }
    }

    /// Archives a source; refused (409) while campaigns use it.
    public func delete(_ id: Int64, by actor: Actor) throws {
        let source = try get(id, for: actor)
        try actor.requireEditable(workspace: source.workspaceID)
        try database.transaction { c in
            let used: Int = try c.query("SELECT count(*)::int AS n FROM campaigns WHERE traffic_source_id = \(id) AND archived_at IS NULL")
                .first!.decode("n")
            guard used == 0 else {
                throw HTTPError.conflict(
                    "\(used) campaign\(used == 1 ? " uses" : "s use") this traffic source: delete them or move them to another source first"
                )
            }
            try c.query("UPDATE traffic_sources SET archived_at = now() WHERE id = \(id)")
            try AuditLog.record(
                c, actor: actor, action: "delete", objectType: "traffic_source", objectID: id, workspaceID: source.workspaceID,
                old: TrafficSourceStore.audit(source))
        }
    }

    /// Checks a draft: field errors (with `inputErrors` from reading the body) → 422 listing
    /// every bad field, nothing stored; returns the warnings.
    public func validate(_ draft: TrafficSourceDraft, actor: Actor, inputErrors: [String: String] = [:]) throws -> [String] {
        var (errors, warnings) = draft.check()
        errors.merge(inputErrors) { _, input in input }
        if !actor.canEdit(workspace: draft.workspaceID) {
            if actor.canWrite {
                errors["workspace_id"] = "is not a workspace of yours"
            } else {
                throw HTTPError.forbidden("your role (viewer) cannot change anything")
            }
        } else if let id = draft.workspaceID, try database.query("SELECT 1 FROM workspaces WHERE id = \(id)").isEmpty {
            errors["workspace_id"] = "is not a workspace"
        }
        if let id = draft.capiIntegrationID, !(try capiOptions(for: actor).contains { $0.id == id }) {
            errors["capi_integration_id"] = "is not a connected integration you can see"
        }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
        return warnings
    }

    /// Connected integrations a source may report its conversions to (its Conversion API).
    public func capiOptions(for actor: Actor) throws -> [(id: Int64, label: String)] {
        try database.query(
            """
            SELECT i.id, i.provider, i.status, s.name FROM integrations i JOIN traffic_sources s ON s.id = i.traffic_source_id
            WHERE i.status <> 'not_connected' AND \(fragment: actor.visibleWorkspaces("i.workspace_id")) ORDER BY s.name, i.provider
            """
        ).map { r in
            (try r.decode("id"), "\(r["provider"] ?? "") on \(r["name"] ?? "") (\(r["status"] ?? ""))")
        }
    }

    /// Keeps each existing name's slot; new names take the lowest free slots.
    public static func assignSlots(_ parameters: [(name: String, token: String)], keeping old: [TrafficSource.Parameter]) -> [TrafficSource
        .Parameter]
    {
        let oldSlots = Dictionary(old.map { ($0.name, $0.slot) }, uniquingKeysWith: { a, _ in a })
        var used = Set(parameters.compactMap { oldSlots[$0.name] })
        var free = (1...TrafficSource.maxParameters).filter { !used.contains($0) }.makeIterator()
        return parameters.map { p in
            if let slot = oldSlots[p.name] { return .init(name: p.name, token: p.token, slot: slot) }
            let slot = free.next() ?? 0
            used.insert(slot)
            return .init(name: p.name, token: p.token, slot: slot)
        }
    }

    public static func json(_ parameters: [TrafficSource.Parameter]) -> String {
        String(decoding: (try? JSONEncoder().encode(parameters)) ?? Data("[]".utf8), as: UTF8.self)
    }

    public static func audit(_ s: TrafficSource) -> [String: Any] {
        [
            "name": s.name, "workspace_id": s.workspaceID.map { Int($0) } as Any? ?? NSNull(), "cost_currency": s.costCurrency,
            "click_id_param": s.clickIDParam ?? NSNull(), "parameters": s.parameters.map { "\($0.name)=\($0.token)" },
            "postback_enabled": s.postbackEnabled, "postback_url": s.postbackURL ?? NSNull(), "notes": s.notes,
            "postback_send": s.sendBack.send, "postback_events": s.sendBack.events, "postback_reversals": s.sendBack.reversals,
            "postback_payout_percent": s.payoutPercent,
        ]
    }
}
