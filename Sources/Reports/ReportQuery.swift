import Postgres
import WaymarkCore

/// A report's SQL, built without a database. Clicks, conversions and spend are each grouped at
/// (day in the report's zone, source, campaign, the other dimensions) first, so FX conversion
/// happens at each day's rate, and imported spend at campaign level replaces the model cost of
/// its (day, source, campaign) (each row knows whether its campaign had spend that day); the
/// outer query sums them to the requested dimensions. Rows already in the reporting currency
/// need no per-campaign conversion: unless campaigns are asked for, their campaigns fold into
/// one group per day and source (the 30-day dashboard sums a few hundred groups, not 30 000).
public struct ReportQuery {
    public let request: ReportRequest
    public let plan: ReportPlan
    public let actor: Actor

    public init(_ request: ReportRequest, plan: ReportPlan, actor: Actor) {
        self.request = request
        self.plan = plan
        self.actor = actor
    }

    private var r: ReportRequest { request }

    /// The whole query: the three sources, and the sums per requested dimension.
    public var sql: PostgresQuery {
        let requested = ReportQuery.requestedColumns(r.groups, params: plan.params)
        let select = requested.isEmpty ? "" : requested.joined(separator: ", ") + ", "
        let groupBy = requested.isEmpty ? "" : "GROUP BY " + requested.joined(separator: ", ")
        return """
            WITH spent AS (
                SELECT DISTINCT d_day, d_source, d_campaign FROM (\(fragment: spend)) sp WHERE spend <> 0 AND d_campaign IS NOT NULL
            ), u AS (
            \(fragment: clicks)
            UNION ALL
            \(fragment: conversions)
            UNION ALL
            \(fragment: spend)
            )
            SELECT \(unescaped: select)
                   sum(u.clicks)::bigint AS clicks, sum(u.bot_clicks)::bigint AS bot_clicks, sum(u.unique_clicks)::bigint AS unique_clicks,
                   sum(u.conversions)::bigint AS conversions, sum(u.pending)::bigint AS pending, sum(u.declined)::bigint AS declined,
                   coalesce(sum(u.revenue), 0)::text AS revenue,
                   (coalesce(sum(u.spend), 0) + coalesce(sum(u.model_cost), 0))::text AS cost,
                   coalesce(sum(u.missing), 0)::int AS missing, sum(u.impressions)::bigint AS impressions,
                   sum(u.lander_views)::bigint AS lander_views, sum(u.lander_clicks)::bigint AS lander_clicks
            FROM u
            \(unescaped: groupBy)
            """
    }

    // MARK: the parts

    /// The campaign a first-step row is grouped by: its own, or none (folded with the others of
    /// its day and source) when it is in the reporting currency and campaigns are not asked for.
    /// `sameCurrency` is a condition on the row.
    func groupedCampaign(_ campaign: String, sameCurrency: PostgresQuery) -> PostgresQuery {
        if r.groups.contains(.campaign) { return "\(unescaped: campaign) AS g_campaign" }
        return "CASE WHEN \(fragment: sameCurrency) THEN NULL ELSE \(unescaped: campaign) END AS g_campaign"
    }

    /// Whether a first-step row's (day, source, campaign) had imported spend: its model cost
    /// then does not count (a join on `spent`, aliased `s`).
    static let spentJoin = "LEFT JOIN spent s ON s.d_day = x.d_day AND s.d_source = x.d_source AND s.d_campaign = x.d_campaign"

    /// Columns of the first grouping step beyond (day, source, campaign), as one list.
    var extraList: String {
        let extra = ReportQuery.extraColumns(r.groups)
        return extra.isEmpty ? "" : ", " + extra.joined(separator: ", ")
    }

    var fromTs: PostgresQuery { "(\(r.from)::date::timestamp AT TIME ZONE \(r.timeZone))" }
    var toTs: PostgresQuery { "((\(r.to)::date + 1)::timestamp AT TIME ZONE \(r.timeZone))" }

    /// The actor's visibility and the request's filters on a table alias. A table without
    /// flows (spend) has no rows in a flow.
    func filters(_ alias: String, flows: Bool = true) -> PostgresQuery {
        let flow: PostgresQuery =
            flows
            ? """
            AND (\(r.flowID)::bigint IS NULL OR \(unescaped: alias).flow_id = \(r.flowID))
              AND (\(r.flowPath)::int IS NULL OR \(unescaped: alias).flow_path = \(r.flowPath))
            """
            : "AND \(r.flowID)::bigint IS NULL"
        return """
            \(fragment: actor.visibleWorkspaces(alias + ".workspace_id"))
              AND (\(r.workspaceID)::bigint IS NULL OR \(unescaped: alias).workspace_id = \(r.workspaceID))
              AND (\(r.sourceID)::bigint IS NULL OR \(unescaped: alias).traffic_source_id = \(r.sourceID))
              AND (\(r.campaignID)::bigint IS NULL OR \(unescaped: alias).campaign_id = \(r.campaignID))
              \(fragment: flow)
            """
    }

    /// The grouped dimensions' select items (each with its leading comma).
    func dimensions(_ make: (ReportRequest.Group) -> PostgresQuery) -> PostgresQuery {
        var q: PostgresQuery = ""
        for g in r.groups {
            let part = make(g)
            if !part.sql.isEmpty {
                q.append(", ")
                q.append(part)
            }
        }
        return q
    }

    /// A dimension from a click row `k` at time column `t`.
    func clickDimension(_ g: ReportRequest.Group, _ t: String, k: String) -> PostgresQuery {
        switch g {
        case .hour:
            return """
                date_trunc('hour', \(unescaped: t) AT TIME ZONE \(r.timeZone)) AS d_hour, \
                extract(epoch FROM (\(unescaped: t) AT TIME ZONE \(r.timeZone)) - (\(unescaped: t) AT TIME ZONE 'UTC'))::int AS d_offset
                """
        case .param(let name):
            return "\(fragment: ReportQuery.paramExpression(name, slots: plan.slots, k: k)) AS \(unescaped: plan.paramColumn(name))"
        case .country: return "\(unescaped: k).country AS d_country"
        case .device: return "\(unescaped: k).device AS d_device"
        default: return ""
        }
    }

    /// A flow dimension from a row `a` with flow columns; `offer` is the offer's expression (a
    /// click's offer may come from its click-through).
    func flowDimension(_ g: ReportRequest.Group, _ a: String, offer: String) -> PostgresQuery {
        switch g {
        case .flow: return "\(unescaped: a).flow_id AS d_flow"
        case .path: return "\(unescaped: a).flow_id AS d_pflow, \(unescaped: a).flow_path AS d_path"
        case .lander: return "\(unescaped: a).lander_id AS d_lander"
        case .offer: return "\(unescaped: offer) AS d_offer"
        default: return ""
        }
    }

    /// Imported spend is daily, so no hour; parameter-level entries carry their dimension.
    func spendDimension(_ g: ReportRequest.Group) -> PostgresQuery {
        switch g {
        case .hour: return "NULL::timestamp AS d_hour, NULL::int AS d_offset"
        case .param(let name): return "e.dimensions ->> \(name) AS \(unescaped: plan.paramColumn(name))"
        case .country: return "NULL::text AS d_country"
        case .device: return "NULL::text AS d_device"
        case .event: return "NULL::text AS d_event"
        case .flow: return "NULL::bigint AS d_flow"
        case .path: return "NULL::bigint AS d_pflow, NULL::smallint AS d_path"
        case .lander: return "NULL::bigint AS d_lander"
        case .offer: return "NULL::bigint AS d_offer"
        default: return ""
        }
    }
}
