import Postgres
import WaymarkCore

extension ReportQuery {
    /// Clicks: counts, and the model cost of CPC and auto campaigns (their stored cost).
    var clicks: PostgresQuery {
        """
        SELECT d_day, d_source, g_campaign AS d_campaign\(unescaped: extraList),
               sum(clicks)::bigint AS clicks, sum(bot_clicks)::bigint AS bot_clicks, sum(unique_clicks)::bigint AS unique_clicks,
               0::bigint AS conversions, 0::bigint AS pending, 0::bigint AS declined, 0::numeric AS revenue, 0::numeric AS spend,
               (CASE WHEN currency = \(request.currency) THEN sum(cost) FILTER (WHERE NOT spent)
                     ELSE waymark_convert(sum(cost) FILTER (WHERE NOT spent), currency, \(request.currency), d_day) END) AS model_cost,
               (sum(cost) <> 0
                AND (CASE WHEN currency = \(request.currency) THEN 1
                          ELSE waymark_convert(1, currency, \(request.currency), d_day) END) IS NULL)::int AS missing,
               0::bigint AS impressions, sum(lander_views)::bigint AS lander_views, sum(lander_clicks)::bigint AS lander_clicks
        FROM (
            SELECT x.*, s.d_day IS NOT NULL AS spent,
                   \(fragment: groupedCampaign("x.d_campaign", sameCurrency: "x.currency = \(request.currency)"))
            FROM (
                SELECT coalesce(k.day, (k.clicked_at AT TIME ZONE \(request.timeZone))::date) AS d_day,
                       k.traffic_source_id AS d_source, k.campaign_id AS d_campaign
                       \(fragment: dimensions(clickRowDimension)),
                       k.clicks, k.bot_clicks, k.unique_clicks, k.cost, k.lander_views, k.lander_clicks, c.currency
                FROM \(fragment: clickRows) k JOIN campaigns c ON c.id = k.campaign_id
                WHERE \(fragment: filters("k"))
            ) x \(unescaped: ReportQuery.spentJoin)
        ) y
        GROUP BY d_day, d_source, g_campaign\(unescaped: extraList), currency
        \(unescaped: ReportQuery.notAllZero(["clicks", "bot_clicks", "unique_clicks", "cost", "lander_views", "lander_clicks"]))
        """
    }

    /// Roll-up rows (and a folded row with its pending delta) can sum to nothing where no raw
    /// row exists: a click-through moves its click off "no offer", a conversion changes or
    /// goes. A raw click or conversion always counts one, so this drops only those.
    static func notAllZero(_ columns: [String]) -> String {
        "HAVING " + columns.map { "sum(\($0)) <> 0" }.joined(separator: " OR ")
    }

    /// A click row's dimension; its offer is the one it was sent to or clicked through to.
    func clickRowDimension(_ g: ReportRequest.Group) -> PostgresQuery {
        if g == .event { return "NULL::text AS d_event" }
        return g.isFlow ? flowDimension(g, "k", offer: "k.effective_offer_id") : clickDimension(g, "k.clicked_at", k: "k")
    }

    /// Below campaign level (parameters, country, device) the click table by (campaign, time),
    /// each click with its click-through (its offer, and the lander click it counts); else the
    /// daily roll-ups for the workspaces cut in this zone, the hourly ones and their
    /// not-yet-folded deltas for the others.
    var clickRows: PostgresQuery {
        guard plan.useRollups else {
            return """
                (SELECT ck.*, NULL::date AS day, (NOT ck.is_bot)::int AS clicks, ck.is_bot::int AS bot_clicks,
                        (ck.is_unique AND NOT ck.is_bot)::int AS unique_clicks,
                        (ck.lander_id IS NOT NULL AND NOT ck.is_bot)::int AS lander_views,
                        (lc.click_id IS NOT NULL AND NOT ck.is_bot)::int AS lander_clicks,
                        coalesce(ck.offer_id, lc.offer_id) AS effective_offer_id
                 FROM clicks ck
                 LEFT JOIN lander_clicks lc
                   ON lc.click_id = ck.id AND lc.clicked_at >= \(fragment: fromTs) AND lc.clicked_at < \(fragment: toTs)
                 WHERE ck.clicked_at >= \(fragment: fromTs) AND ck.clicked_at < \(fragment: toTs))
                """
        }
        let hourly: PostgresQuery = "hour >= \(fragment: fromTs) AND hour < \(fragment: toTs)"
        let daily = plan.dailyWorkspaces
        let columns = """
            campaign_id, traffic_source_id, workspace_id, flow_id, flow_path, lander_id, offer_id AS effective_offer_id,
                    clicks, bot_clicks, unique_clicks, cost, lander_views, lander_clicks
            """
        return """
            (SELECT day, NULL::timestamptz AS clicked_at, \(unescaped: columns)
             FROM click_rollups_daily
             WHERE day BETWEEN \(request.from)::date AND \(request.to)::date AND coalesce(workspace_id, 0) = ANY(\(daily)::bigint[])
             UNION ALL
             SELECT NULL::date, hour, \(unescaped: columns)
             FROM click_rollups
             WHERE \(fragment: hourly) AND NOT \(plan.onlyDaily) AND NOT coalesce(workspace_id, 0) = ANY(\(daily)::bigint[])
             UNION ALL
             SELECT NULL::date, hour, \(unescaped: columns)
             FROM click_rollup_deltas WHERE \(fragment: hourly))
            """
    }

    /// Conversions on their click's time or their own; the CPA model cost (a campaign's amount
    /// counts only for CPA, so the others' conversions fold into fewer groups).
    var conversions: PostgresQuery {
        let needsClick = request.groups.contains { if case .param = $0 { true } else { $0 == .country || $0 == .device } }
        let currency = request.currency
        let approved = "coalesce(sum(approved) FILTER (WHERE counts), 0)"
        let payout = "sum(approved_payout) FILTER (WHERE revenue)"
        let cpa = "cost_amount * coalesce(sum(approved) FILTER (WHERE counts AND NOT spent), 0)"
        return """
            SELECT d_day, d_source, g_campaign\(unescaped: extraList),
                   0::bigint, 0::bigint, 0::bigint,
                   \(unescaped: approved) AS conversions,
                   coalesce(sum(pending) FILTER (WHERE counts), 0) AS pending,
                   coalesce(sum(declined) FILTER (WHERE counts), 0) AS declined,
                   coalesce((CASE WHEN payout_currency = \(currency) THEN \(unescaped: payout)
                                  ELSE waymark_convert(\(unescaped: payout), payout_currency, \(currency), d_day) END), 0),
                   0::numeric,
                   CASE WHEN cost_model = 'cpa'
                        THEN (CASE WHEN campaign_currency = \(currency) THEN \(unescaped: cpa)
                                   ELSE waymark_convert(\(unescaped: cpa), campaign_currency, \(currency), d_day) END)
                        ELSE 0 END,
                   ((coalesce(\(unescaped: payout), 0) <> 0
                     AND (CASE WHEN payout_currency = \(currency) THEN 1
                               ELSE waymark_convert(1, payout_currency, \(currency), d_day) END) IS NULL)
                    OR (cost_model = 'cpa'
                        AND (CASE WHEN campaign_currency = \(currency) THEN 1
                                  ELSE waymark_convert(1, campaign_currency, \(currency), d_day) END) IS NULL))::int,
                   0::bigint, 0::bigint, 0::bigint
            FROM (
                SELECT x.*, s.d_day IS NOT NULL AS spent,
                       \(fragment: groupedCampaign(
                           "x.d_campaign", sameCurrency: "x.payout_currency = \(currency) AND x.campaign_currency = \(currency)"))
                FROM (
                    SELECT coalesce(v.day, (\(unescaped: conversionTime) AT TIME ZONE \(request.timeZone))::date) AS d_day,
                           v.traffic_source_id AS d_source, v.campaign_id AS d_campaign
                           \(fragment: dimensions(conversionDimension)),
                           v.approved, v.pending, v.declined, v.approved_payout, v.currency AS payout_currency,
                           c.currency AS campaign_currency, c.cost_model,
                           CASE WHEN c.cost_model = 'cpa' THEN c.cost_amount ELSE 0 END AS cost_amount,
                           coalesce(ev.counts_as_conversion, true) AS counts, coalesce(ev.counts_as_revenue, true) AS revenue
                    FROM \(fragment: conversionRows) v JOIN campaigns c ON c.id = v.campaign_id
                    LEFT JOIN conversion_events ev ON coalesce(ev.workspace_id, 0) = coalesce(v.workspace_id, 0) AND ev.key = v.event_key
                    \(fragment: needsClick ? clickOfConversion : "")
                    WHERE \(fragment: filters("v"))
                ) x \(unescaped: ReportQuery.spentJoin)
            ) y
            GROUP BY d_day, d_source, g_campaign\(unescaped: extraList), payout_currency, campaign_currency, cost_model, cost_amount
            \(unescaped: ReportQuery.notAllZero(["approved", "pending", "declined", "approved_payout"]))
            """
    }

    /// A conversion's click, for its parameters, country and device. On click time the click is
    /// in the period too: saying so lets PostgreSQL plan only the period's daily partitions
    /// instead of all of them (8 of a drill-down's 27 ms were planning).
    var clickOfConversion: PostgresQuery {
        let join: PostgresQuery = "LEFT JOIN clicks k ON k.id = v.click_id AND k.clicked_at = v.clicked_at"
        guard !request.byConversionTime else { return join }
        return "\(fragment: join) AND k.clicked_at >= \(fragment: fromTs) AND k.clicked_at < \(fragment: toTs)"
    }

    /// The time a conversion is reported at: its click's or its own.
    var conversionTimeColumn: String { request.byConversionTime ? "converted_at" : "clicked_at" }
    var conversionTime: String { "v." + conversionTimeColumn }

    /// The conversions in the period by status (`day` set where already cut in the report's
    /// zone): where the clicks come from the daily roll-ups, so do the conversions of the
    /// workspaces cut in this zone (with their deltas not yet folded); else the raw rows.
    var conversionRows: PostgresQuery {
        let time = conversionTimeColumn
        let range: PostgresQuery = "\(unescaped: time) >= \(fragment: fromTs) AND \(unescaped: time) < \(fragment: toTs)"
        let raw: PostgresQuery = """
            SELECT NULL::date AS day, click_id, clicked_at, converted_at, \(unescaped: ReportQuery.conversionKeys),
                   \(unescaped: ReportQuery.statusCounts(n: "1"))
            FROM conversions WHERE \(fragment: range)
            """
        guard plan.readsDailyRollups(request) else { return "(\(fragment: raw))" }
        let daily = plan.dailyWorkspaces
        return """
            (SELECT day, NULL::text AS click_id, NULL::timestamptz AS clicked_at, NULL::timestamptz AS converted_at,
                    \(unescaped: ReportQuery.conversionKeys), approved, pending, declined, approved_payout
             FROM conversion_rollups_daily
             WHERE coalesce(workspace_id, 0) = ANY(\(daily)::bigint[]) AND by_conversion = \(request.byConversionTime)
               AND day BETWEEN \(request.from)::date AND \(request.to)::date
             UNION ALL
             \(fragment: raw) AND NOT \(plan.onlyDaily) AND NOT coalesce(workspace_id, 0) = ANY(\(daily)::bigint[])
             UNION ALL
             SELECT NULL::date, NULL::text, clicked_at, converted_at, \(unescaped: ReportQuery.conversionKeys),
                    \(unescaped: ReportQuery.statusCounts(n: "conversions"))
             FROM conversion_rollup_deltas WHERE \(fragment: range) AND coalesce(workspace_id, 0) = ANY(\(daily)::bigint[]))
            """
    }

    static let conversionKeys = "workspace_id, traffic_source_id, campaign_id, flow_id, flow_path, lander_id, offer_id, event_key, currency"
    /// A raw conversion (`n` = 1) or a delta (`n` = ±1, its payout signed) as the roll-ups' columns.
    static func statusCounts(n: String) -> String {
        """
        (status = 'approved')::int * \(n) AS approved, (status = 'pending')::int * \(n) AS pending,
        (status = 'declined')::int * \(n) AS declined, CASE WHEN status = 'approved' THEN payout ELSE 0 END AS approved_payout
        """
    }

    /// A conversion's dimension: its event, its own flow, path, lander and offer (kept from its
    /// click), else its click's.
    func conversionDimension(_ g: ReportRequest.Group) -> PostgresQuery {
        if g == .event { return "v.event_key AS d_event" }
        return g.isFlow ? flowDimension(g, "v", offer: "v.offer_id") : clickDimension(g, conversionTime, k: "k")
    }

    /// Imported spend (and impressions) by day.
    var spend: PostgresQuery {
        """
        SELECT d_day, d_source, d_campaign\(unescaped: extraList),
               0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::numeric,
               coalesce((CASE WHEN currency = \(request.currency) THEN sum(amount)
                              ELSE waymark_convert(sum(amount), currency, \(request.currency), d_day) END), 0) AS spend, 0::numeric,
               ((CASE WHEN currency = \(request.currency) THEN 1
                      ELSE waymark_convert(1, currency, \(request.currency), d_day) END) IS NULL)::int,
               coalesce(sum(impressions), 0)::bigint, 0::bigint, 0::bigint
        FROM (
            SELECT e.day AS d_day, e.traffic_source_id AS d_source, e.campaign_id AS d_campaign \(fragment: dimensions(spendDimension)),
                   e.amount, e.currency, e.impressions
            FROM spend_entries e
            WHERE e.day BETWEEN \(request.from)::date AND \(request.to)::date AND \(fragment: filters("e", flows: false))
        ) x
        GROUP BY d_day, d_source, d_campaign\(unescaped: extraList), currency
        """
    }

    /// Columns of the first grouping step beyond (day, source, campaign).
    public static func extraColumns(_ groups: [ReportRequest.Group]) -> [String] {
        var out: [String] = []
        var p = 0
        for g in groups {
            switch g {
            case .hour: out += ["d_hour", "d_offset"]
            case .param:
                out.append("d_p\(p)")
                p += 1
            case .country: out.append("d_country")
            case .device: out.append("d_device")
            case .event: out.append("d_event")
            case .flow: out.append("d_flow")
            case .path: out += ["d_pflow", "d_path"]
            case .lander: out.append("d_lander")
            case .offer: out.append("d_offer")
            default: break
            }
        }
        return out
    }

    /// The outer query's grouping columns, in group order.
    public static func requestedColumns(_ groups: [ReportRequest.Group], params: [String]) -> [String] {
        groups.flatMap { g -> [String] in
            switch g {
            case .day: ["u.d_day"]
            case .hour: ["u.d_hour", "u.d_offset"]
            case .trafficSource: ["u.d_source"]
            case .campaign: ["u.d_campaign"]
            case .param(let name): ["u.d_p\(params.firstIndex(of: name)!)"]
            case .country: ["u.d_country"]
            case .device: ["u.d_device"]
            case .event: ["u.d_event"]
            case .flow: ["u.d_flow"]
            case .path: ["u.d_pflow", "u.d_path"]
            case .lander: ["u.d_lander"]
            case .offer: ["u.d_offer"]
            }
        }
    }

    /// A parameter's value in click rows: the slot it has in each source, else the extras.
    public static func paramExpression(_ name: String, slots: [Int64: [String: Int]], k: String) -> PostgresQuery {
        var cases = ""
        for (source, map) in slots.sorted(by: { $0.key < $1.key }) {
            if let slot = map[name] { cases += " WHEN \(source) THEN \(k).p\(slot)" }
        }
        if cases.isEmpty { return "(\(unescaped: k).extra ->> \(name))" }
        return "(CASE \(unescaped: k).traffic_source_id\(unescaped: cases) ELSE \(unescaped: k).extra ->> \(name) END)"
    }
}
