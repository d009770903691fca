import Foundation
import Postgres
import WaymarkCore
import Web

/// Campaigns in PostgreSQL. A campaign belongs to its source's workspace; the actor's rules
/// apply through that source.
public struct CampaignStore: Sendable {
    public let database: PostgresPool
    public let sources: TrafficSourceStore
    public let links: TrackingLinks

    public init(database: PostgresPool, sources: TrafficSourceStore, links: TrackingLinks) {
        self.database = database
        self.sources = sources
        self.links = links
    }

    public static let select = """
        SELECT c.id, c.key, c.name, c.traffic_source_id, s.workspace_id, c.destination_url, c.fallback_url, c.status,
               c.cost_model, c.cost_amount::text AS cost_amount, c.currency, c.campaign_url, c.created_at,
               c.reporting, c.reporting_postback_url, c.reporting_integration_id, c.reporting_send,
               c.reporting_payout_percent::text AS reporting_payout_percent,
               array_to_string(c.reporting_events, ',') AS reporting_events, c.reporting_reversals, c.flow_id
        FROM campaigns c JOIN traffic_sources s ON s.id = c.traffic_source_id
        """

    public static func decode(_ row: PostgresRow) throws -> Campaign {
        var reporting = ConversionReporting()
        reporting.method = ConversionReporting.Method(rawValue: row["reporting"] ?? "source") ?? .source
        reporting.postbackURL = row["reporting_postback_url"]
        reporting.integrationID = try row.decode("reporting_integration_id", as: Int64?.self)
        reporting.rules = SendBackRules(
            send: row["reporting_send"] ?? "all", events: (row["reporting_events"] ?? "").split(separator: ",").map(String.init),
            reversals: row["reporting_reversals"] == "t")
        reporting.payoutPercent = row["reporting_payout_percent"] ?? "100"
        var campaign = Campaign(
            id: try row.decode("id"), key: try row.decode("key"), name: try row.decode("name"),
            trafficSourceID: try row.decode("traffic_source_id"), workspaceID: try row.decode("workspace_id", as: Int64?.self),
            destinationURL: try row.decode("destination_url"), fallbackURL: try row.decode("fallback_url", as: String?.self),
            status: try row.decode("status"), costModel: Campaign.CostModel(rawValue: try row.decode("cost_model")) ?? .none,
            costAmount: try row.decode("cost_amount"), currency: try row.decode("currency"), campaignURL: try row.decode("campaign_url"),
            createdAt: try row.decode("created_at"))
        campaign.reporting = reporting
        campaign.flowID = try row.decode("flow_id", as: Int64?.self)
        return campaign
    }

    /// The campaign's conversion reporting once inheritance is resolved, with its warnings.
    public func effectiveReporting(_ campaign: Campaign) throws -> EffectiveReporting? {
        try database.withConnection { try CampaignStore.reporting(on: $0, campaignID: campaign.id) }
    }

    public func saveReporting(_ id: Int64, _ r: ConversionReporting, on c: PostgresConnection) throws {
        try c.query(
            """
            UPDATE campaigns SET reporting = \(r.method.rawValue), reporting_postback_url = \(r.method == .postback ? r.postbackURL : nil),
              reporting_integration_id = \(r.method == .capi ? r.integrationID : nil), reporting_send = \(r.rules.send),
              reporting_payout_percent = \(r.payoutPercent)::numeric, reporting_events = \(r.rules.events)::text[],
                reporting_reversals = \(r.rules.reversals)
            WHERE id = \(id)
            """)
    }

    public func list(for actor: Actor, workspace: Int64? = nil, trafficSource: Int64? = nil) throws -> [Campaign] {
        try database.query(
            """
            \(unescaped: CampaignStore.select)
            WHERE c.archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("s.workspace_id"))
              AND (\(workspace)::bigint IS NULL OR s.workspace_id IS NULL OR s.workspace_id = \(workspace))
              AND (\(trafficSource)::bigint IS NULL OR c.traffic_source_id = \(trafficSource))
            ORDER BY lower(c.name), c.id
            """
        ).map(CampaignStore.decode)
    }

    public func get(_ id: Int64, for actor: Actor) throws -> Campaign {
        guard let row = try database.query("\(unescaped: CampaignStore.select) WHERE c.id = \(id) AND c.archived_at IS NULL").first else {
            throw HTTPError.notFound("no campaign \(id)")
        }
        let campaign = try CampaignStore.decode(row)
        try actor.requireVisible(workspace: campaign.workspaceID)
        return campaign
    }

    /// A campaign's name and source, archived or not (reports still cover it), when the actor sees it.
    public func label(_ id: Int64, for actor: Actor) throws -> (name: String, trafficSourceID: Int64)? {
        guard
            let row = try database.query(
                """
                SELECT c.name, c.traffic_source_id FROM campaigns c JOIN traffic_sources s ON s.id = c.traffic_source_id
                WHERE c.id = \(id) AND \(fragment: actor.visibleWorkspaces("s.workspace_id"))
                """
            ).first
        else { return nil }
        return (try row.decode("name"), try row.decode("traffic_source_id"))
    }

    /// Creates a campaign: a new key, the source's currency, the campaign URL generated now.
    public func create(_ draft: CampaignDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> (Campaign, [String]) {
        let (source, warnings) = try validate(draft, actor: actor, inputErrors: inputErrors)
        return try database.transaction { c in
            var key = CampaignStore.newKey()
            // 72 random bits collide practically never; the unique index is the guard.
            while try !c.query("SELECT 1 FROM campaigns WHERE key = \(key)").isEmpty { key = CampaignStore.newKey() }
            let row = try c.query(
                """
                INSERT INTO campaigns (traffic_source_id, key, name, destination_url, fallback_url, status, cost_model, cost_amount,
                  currency, campaign_url, flow_id)
                VALUES (\(source.id), \(key), \(draft.name.trimmingCharacters(in: .whitespaces)), \(draft.destinationURL),
                        \(draft.fallbackURL),
                        \(draft.status), \(draft.costModel.rawValue), \(draft.costAmount)::numeric, \(source.costCurrency),
                        \(links.campaignURL(key: key, parameters: source.parameters)), \(draft.flowID))
                RETURNING id
                """
            ).first!
            let id: Int64 = try row.decode("id")
            try saveReporting(id, draft.reporting, on: c)
            let campaign = try CampaignStore.decode(c.query("\(unescaped: CampaignStore.select) WHERE c.id = \(id)").first!)
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "campaign", objectID: id, workspaceID: campaign.workspaceID,
                new: CampaignStore.audit(campaign))
            return (campaign, warnings)
        }
    }

    /// Saves a campaign; its URL is regenerated from the source's parameters as they are now.
    public func update(_ id: Int64, _ draft: CampaignDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> (
        Campaign, [String]
    ) {
        let old = try get(id, for: actor)
        try actor.requireEditable(workspace: old.workspaceID)
        let (source, warnings) = try validate(draft, actor: actor, inputErrors: inputErrors)
        return try database.transaction { c in
            try c.query(
                """
                UPDATE campaigns SET traffic_source_id = \(source.id), name = \(draft.name.trimmingCharacters(in: .whitespaces)),
                  destination_url = \(draft.destinationURL), fallback_url = \(draft.fallbackURL), status = \(draft.status),
                  cost_model = \(draft.costModel.rawValue), cost_amount = \(draft.costAmount)::numeric,
                  campaign_url = \(links.campaignURL(key: old.key, parameters: source.parameters)), flow_id = \(draft.flowID),
                  updated_at = now()
                WHERE id = \(id)
                """)
            try saveReporting(id, draft.reporting, on: c)
            let campaign = try CampaignStore.decode(c.query("\(unescaped: CampaignStore.select) WHERE c.id = \(id)").first!)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "campaign", objectID: id, workspaceID: campaign.workspaceID,
                old: CampaignStore.audit(old), new: CampaignStore.audit(campaign))
            return (campaign, warnings)
        }
    }

    public func delete(_ id: Int64, by actor: Actor) throws {
        let campaign = try get(id, for: actor)
        try actor.requireEditable(workspace: campaign.workspaceID)
        try database.transaction { c in
            try c.query("UPDATE campaigns SET archived_at = now() WHERE id = \(id)")
            try AuditLog.record(
                c, actor: actor, action: "delete", objectType: "campaign", objectID: id, workspaceID: campaign.workspaceID,
                old: CampaignStore.audit(campaign))
        }
    }

    /// The stored URL differs from what the source's parameters give now: saving regenerates it.
    public func isOutdated(_ campaign: Campaign, source: TrafficSource) -> Bool {
        campaign.campaignURL != links.campaignURL(key: campaign.key, parameters: source.parameters)
    }

    /// Warnings of a stored campaign (for its pages and the API).
    public func warnings(_ campaign: Campaign, source: TrafficSource) -> [String] {
        CampaignDraft(campaign).check(parameterNames: source.parameters.map(\.name)).warnings
    }

    /// Field errors → 422 listing every bad field (with `inputErrors` from reading the body).
    public func validate(_ draft: CampaignDraft, actor: Actor, inputErrors: [String: String] = [:]) throws -> (TrafficSource, [String]) {
        var source: TrafficSource?
        var sourceError: String?
        if let id = draft.trafficSourceID {
            do {
                source = try sources.get(id, for: actor)
            } catch let error as HTTPError where error.status == 404 {
                sourceError = "is not a traffic source you can use"
            }
        }
        var (errors, warnings) = draft.check(parameterNames: source?.parameters.map(\.name) ?? [])
        if let sourceError { errors["traffic_source_id"] = sourceError }
        if let flow = draft.flowID, let source,
            !(try FlowStore(database: database).isUsable(flow, workspace: source.workspaceID, for: actor))
        {
            errors["flow_id"] = "is not a flow you can use here (it must exist and be Public or in the campaign's workspace)"
        }
        if draft.reporting.method == .capi, let id = draft.reporting.integrationID,
            !(try sources.capiOptions(for: actor).contains { $0.id == id })
        {
            errors["conversion_reporting.integration_id"] = "is not a connected integration you can see"
        }
        errors.merge(inputErrors) { _, input in input }
        if let source, !actor.canEdit(workspace: source.workspaceID) {
            throw HTTPError.forbidden("your role (\(actor.role.rawValue)) cannot change anything")
        }
        guard errors.isEmpty, let source else { throw HTTPError.validation(errors) }
        return (source, warnings)
    }

    /// 12 URL-safe characters (72 random bits): short, not guessable.
    public static func newKey() -> String { RandomToken.base64URL(bytes: 9) }

    /// An answer's shape as the audit log's loose JSON.
    static func auditValue(_ value: some Encodable) -> Any {
        (try? JSONCoding.encoder.encode(value)).flatMap { try? JSONSerialization.jsonObject(with: $0) } ?? NSNull()
    }

    public static func audit(_ c: Campaign) -> [String: Any] {
        [
            "name": c.name, "key": c.key, "traffic_source_id": Int(c.trafficSourceID), "destination_url": c.destinationURL,
            "fallback_url": c.fallbackURL ?? NSNull(), "status": c.status, "cost_model": c.costModel.rawValue,
            "cost_amount": c.costAmount, "currency": c.currency, "campaign_url": c.campaignURL,
            "conversion_reporting": CampaignStore.auditValue(c.reporting), "flow_id": c.flowID.map { Int($0) } as Any? ?? NSNull(),
        ]
    }
}
