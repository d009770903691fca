import Catalog
import Foundation
import Postgres
import WaymarkCore
import Web

/// What a report asks (docs/reports.md): period in a time zone, grouping, filters, attribution and
/// the reporting currency.
public struct ReportRequest: Sendable {
    public enum Group: Sendable, Equatable {
        case day, hour, trafficSource, campaign, param(String), country, device, event

        public var key: String {
            switch self {
            case .day: "day"
            case .hour: "hour"
            case .trafficSource: "traffic_source"
            case .campaign: "campaign"
            case .param(let name): "param:" + name
            case .country: "country"
            case .device: "device"
            case .event: "event"
            }
        }

        public static func parse(_ text: String) -> Group? {
            switch text {
            case "day": .day
            case "hour": .hour
            case "traffic_source": .trafficSource
            case "campaign": .campaign
            case "country": .country
            case "device": .device
            case "event": .event
            default: text.hasPrefix("param:") && Slug.isValid(String(text.dropFirst(6))) ? .param(String(text.dropFirst(6))) : nil
            }
        }
    }

    public var from: String
    public var to: String
    public var timeZone: String
    public var currency: String
    public var groups: [Group]
    public var workspaceID: Int64?
    public var sourceID: Int64?
    public var campaignID: Int64?
    public var byConversionTime: Bool

    /// From query parameters; defaults (tz, currency) come from the workspace when one is named
    /// or the actor has only one, else UTC and USD.
    public init(_ request: Request, defaults: (tz: String, currency: String)) throws(HTTPError) {
        func text(_ name: String) -> String? { request.queryValue(name).flatMap { $0.isEmpty ? nil : $0 } }
        func id(_ name: String) throws(HTTPError) -> Int64? {
            guard let t = text(name) else { return nil }
            guard let v = Int64(t) else { throw HTTPError.badRequest("\(name) must be a number", field: name) }
            return v
        }
        let today = Dates.day(Date())
        from = text("from") ?? today
        to = text("to") ?? from
        guard let start = Dates.parseDay(from) else { throw HTTPError.badRequest("from must be a date YYYY-MM-DD", field: "from") }
        guard let end = Dates.parseDay(to) else { throw HTTPError.badRequest("to must be a date YYYY-MM-DD", field: "to") }
        guard end >= start else { throw HTTPError.badRequest("to is before from", field: "to") }
        guard end.timeIntervalSince(start) <= 400 * 86400 else {
            throw HTTPError.badRequest("the period is longer than 400 days", field: "to")
        }
        timeZone = text("tz") ?? defaults.tz
        // A NUL would cut the name short on its way to PostgreSQL ("UTC\0junk" read as UTC).
        guard !timeZone.utf8.contains(0), timeZone.utf8.count <= 64 else {
            throw HTTPError.badRequest("tz is not a time zone name (e.g. Europe/Berlin)", field: "tz")
        }
        currency = (text("currency") ?? defaults.currency).uppercased()
        guard Currency.isKnown(currency) else { throw HTTPError.badRequest("currency must be an ISO 4217 code", field: "currency") }
        var groups: [Group] = []
        for part in (text("group_by") ?? "traffic_source").split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let g = Group.parse(name) else {
                throw HTTPError.badRequest(
                    "group_by takes day, hour, traffic_source, campaign, param:NAME, country, device, event (got \(name))",
                    field: "group_by")
            }
            if !groups.contains(g) { groups.append(g) }
        }
        guard groups.count <= 4 else { throw HTTPError.badRequest("group by at most 4 dimensions", field: "group_by") }
        self.groups = groups
        workspaceID = try id("workspace_id")
        sourceID = try id("traffic_source_id")
        campaignID = try id("campaign_id")
        switch text("attribution") ?? "click" {
        case "click": byConversionTime = false
        case "conversion": byConversionTime = true
        default: throw HTTPError.badRequest("attribution must be click or conversion", field: "attribution")
        }
    }
}

/// One row of a report: its dimension values (text, for JSON and pages) and its sums.
public struct ReportRow {
    public var dimensions: [String: Any?]
    public var sums: Metrics.Sums
    /// Values to sort and label by, in group order.
    public var labels: [String]
}

public struct ReportResult: Sendable {
    public var request: ReportRequest
    public var rows: [ReportRow]
    public var totals: Metrics.Sums
    public var warnings: [String]
}

extension ReportRow: @unchecked Sendable {}

/// Runs reports on the raw clicks, conversions and spend: always exact. Everything is grouped
/// at (day in the report's time zone, source, campaign, the other dimensions) first, so FX
/// conversion happens at each day's rate and imported spend can replace the model cost of its
/// (day, source, campaign); then it is summed to the requested dimensions.
public struct ReportEngine: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public func run(_ r: ReportRequest, actor: Actor) throws -> ReportResult {
        // PostgreSQL refuses an unknown zone (22023); pg_timezone_names would cost ~50 ms a call.
        // The hourly roll-ups serve a zone whose offset is whole hours all through the period.
        let wholeHours: Bool
        do {
            wholeHours =
                try database.query(
                    ReportEngine.wholeHours(r.timeZone, from: "(\(r.from)::date - 1)::timestamptz", to: "(\(r.to)::date + 2)::timestamptz")
                )
                .first?.decode("whole") ?? false
        } catch let error as PostgresError where error.sqlState == "22023" {
            throw HTTPError.badRequest("tz is not a time zone name (e.g. Europe/Berlin)", field: "tz")
        }
        let params = r.groups.compactMap { if case .param(let n) = $0 { n } else { nil } }
        let slots = try slotMap(actor)
        let extra = ReportEngine.extraColumns(r.groups)

        func clickDim(_ g: ReportRequest.Group, _ t: String, k: String) -> PostgresQuery {
            switch g {
            case .hour:
                return
                    "date_trunc('hour', \(unescaped: t) AT TIME ZONE \(r.timeZone)) AS d_hour, extract(epoch FROM (\(unescaped: t) AT TIME ZONE \(r.timeZone)) - (\(unescaped: t) AT TIME ZONE 'UTC'))::int AS d_offset"
            case .param(let name):
                return
                    "\(fragment: ReportEngine.paramExpression(name, slots: slots, k: k)) AS d_p\(unescaped: String(params.firstIndex(of: name)!))"
            case .country: return "\(unescaped: k).country AS d_country"
            case .device: return "\(unescaped: k).device AS d_device"
            default: return ""
            }
        }
        func dims(_ make: (ReportRequest.Group) -> PostgresQuery) -> PostgresQuery {
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
        let fromTs: PostgresQuery = "(\(r.from)::date::timestamp AT TIME ZONE \(r.timeZone))"
        let toTs: PostgresQuery = "((\(r.to)::date + 1)::timestamp AT TIME ZONE \(r.timeZone))"
        func filters(_ alias: String) -> PostgresQuery {
            """
            \(fragment: actor.visibleWorkspaces(alias + ".workspace_id"))
              AND (\(r.workspaceID)::bigint IS NULL OR \(unescaped: alias).workspace_id = \(r.workspaceID))
              AND (\(r.sourceID)::bigint IS NULL OR \(unescaped: alias).traffic_source_id = \(r.sourceID))
              AND (\(r.campaignID)::bigint IS NULL OR \(unescaped: alias).campaign_id = \(r.campaignID))
            """
        }

        let extraList = extra.isEmpty ? "" : ", " + extra.joined(separator: ", ")
        // Clicks: counts, and the model cost of CPC and auto campaigns (their stored cost). Below
        // campaign level (parameters, country, device) from the click table by (campaign, time);
        // else from the hourly roll-ups and their not-yet-folded deltas.
        let useRollups = wholeHours && r.groups.allSatisfy { [.day, .hour, .trafficSource, .campaign, .event].contains($0) }
        // Whole days come from the daily roll-ups for the workspaces whose days are cut in this
        // zone (Public sources' in UTC); everything else from the hourly ones.
        var dailyWorkspaces: [Int64] = []
        var onlyDaily = false
        if useRollups && !r.groups.contains(.hour) {
            dailyWorkspaces = try database.query("SELECT id FROM workspaces WHERE rollup_daily AND rollup_timezone = \(r.timeZone)").map {
                try $0.decode("id")
            }
            if r.timeZone == "UTC" { dailyWorkspaces.append(0) }
            // One workspace asked for, cut in this zone: no hourly rows are needed at all.
            onlyDaily = r.workspaceID.map { dailyWorkspaces.contains($0) } ?? false
        }
        let hourly: PostgresQuery = "hour >= \(fragment: fromTs) AND hour < \(fragment: toTs)"
        let clickRows: PostgresQuery =
            useRollups
            ? """
            (SELECT day, NULL::timestamptz AS clicked_at, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost
             FROM click_rollups_daily WHERE day BETWEEN \(r.from)::date AND \(r.to)::date AND coalesce(workspace_id, 0) = ANY(\(dailyWorkspaces)::bigint[])
             UNION ALL
             SELECT NULL::date, hour, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost
             FROM click_rollups WHERE \(fragment: hourly) AND NOT \(onlyDaily) AND NOT coalesce(workspace_id, 0) = ANY(\(dailyWorkspaces)::bigint[])
             UNION ALL
             SELECT NULL::date, hour, campaign_id, traffic_source_id, workspace_id, clicks, bot_clicks, unique_clicks, cost
             FROM click_rollup_deltas WHERE \(fragment: hourly))
            """
            : """
            (SELECT *, NULL::date AS day, (NOT is_bot)::int AS clicks, is_bot::int AS bot_clicks, (is_unique AND NOT is_bot)::int AS unique_clicks
             FROM clicks WHERE clicked_at >= \(fragment: fromTs) AND clicked_at < \(fragment: toTs))
            """
        let clicks: PostgresQuery = """
            SELECT d_day, d_source, d_campaign\(unescaped: extraList),
                   sum(clicks)::bigint AS clicks, sum(bot_clicks)::bigint AS bot_clicks, sum(unique_clicks)::bigint AS unique_clicks,
                   0::bigint AS conversions, 0::bigint AS pending, 0::bigint AS declined, 0::numeric AS revenue, 0::numeric AS spend,
                   (CASE WHEN currency = \(r.currency) THEN sum(cost) ELSE waymark_convert(sum(cost), currency, \(r.currency), d_day) END) AS model_cost,
                   (sum(cost) <> 0 AND (CASE WHEN currency = \(r.currency) THEN 1 ELSE waymark_convert(1, currency, \(r.currency), d_day) END) IS NULL)::int AS missing,
                   0::bigint AS impressions
            FROM (
                SELECT coalesce(k.day, (k.clicked_at AT TIME ZONE \(r.timeZone))::date) AS d_day, k.traffic_source_id AS d_source, k.campaign_id AS d_campaign
                       \(fragment: dims { $0 == .event ? "NULL::text AS d_event" : clickDim($0, "k.clicked_at", k: "k") }),
                       k.clicks, k.bot_clicks, k.unique_clicks, k.cost, c.currency
                FROM \(fragment: clickRows) k JOIN campaigns c ON c.id = k.campaign_id
                WHERE \(fragment: filters("k"))
            ) x
            GROUP BY d_day, d_source, d_campaign\(unescaped: extraList), currency
            """
        // Conversions on their click's time or their own; the CPA model cost.
        let time = r.byConversionTime ? "v.converted_at" : "v.clicked_at"
        let needsClick = r.groups.contains { if case .param = $0 { true } else { $0 == .country || $0 == .device } }
        let conversions: PostgresQuery = """
            SELECT d_day, d_source, d_campaign\(unescaped: extraList),
                   0::bigint, 0::bigint, 0::bigint,
                   count(*) FILTER (WHERE status = 'approved' AND counts) AS conversions,
                   count(*) FILTER (WHERE status = 'pending' AND counts) AS pending,
                   count(*) FILTER (WHERE status = 'declined' AND counts) AS declined,
                   coalesce((CASE WHEN payout_currency = \(r.currency) THEN sum(payout) FILTER (WHERE status = 'approved' AND revenue) ELSE waymark_convert(sum(payout) FILTER (WHERE status = 'approved' AND revenue), payout_currency, \(r.currency), d_day) END), 0),
                   0::numeric,
                   CASE WHEN cost_model = 'cpa'
                        THEN (CASE WHEN campaign_currency = \(r.currency) THEN cost_amount * count(*) FILTER (WHERE status = 'approved' AND counts) ELSE waymark_convert(cost_amount * count(*) FILTER (WHERE status = 'approved' AND counts), campaign_currency, \(r.currency), d_day) END)
                        ELSE 0 END,
                   ((coalesce(sum(payout) FILTER (WHERE status = 'approved' AND revenue), 0) <> 0 AND (CASE WHEN payout_currency = \(r.currency) THEN 1 ELSE waymark_convert(1, payout_currency, \(r.currency), d_day) END) IS NULL)
                    OR (cost_model = 'cpa' AND (CASE WHEN campaign_currency = \(r.currency) THEN 1 ELSE waymark_convert(1, campaign_currency, \(r.currency), d_day) END) IS NULL))::int,
                   0::bigint
            FROM (
                SELECT (\(unescaped: time) AT TIME ZONE \(r.timeZone))::date AS d_day, v.traffic_source_id AS d_source, v.campaign_id AS d_campaign
                       \(fragment: dims { g in g == .event ? "v.event_key AS d_event" : clickDim(g, time, k: "k") }),
                       v.status, v.payout, v.currency AS payout_currency, c.currency AS campaign_currency, c.cost_model, c.cost_amount,
                       coalesce(ev.counts_as_conversion, true) AS counts, coalesce(ev.counts_as_revenue, true) AS revenue
                FROM conversions v JOIN campaigns c ON c.id = v.campaign_id
                LEFT JOIN conversion_events ev ON coalesce(ev.workspace_id, 0) = coalesce(v.workspace_id, 0) AND ev.key = v.event_key
                \(unescaped: needsClick ? "LEFT JOIN clicks k ON k.id = v.click_id AND k.clicked_at = v.clicked_at" : "")
                WHERE \(unescaped: time) >= \(fragment: fromTs) AND \(unescaped: time) < \(fragment: toTs) AND \(fragment: filters("v"))
            ) x
            GROUP BY d_day, d_source, d_campaign\(unescaped: extraList), payout_currency, campaign_currency, cost_model, cost_amount
            """
        // Imported spend: daily, so no hour; parameter-level entries carry their dimension.
        func spendDim(_ g: ReportRequest.Group) -> PostgresQuery {
            switch g {
            case .hour: return "NULL::timestamp AS d_hour, NULL::int AS d_offset"
            case .param(let name): return "e.dimensions ->> \(name) AS d_p\(unescaped: String(params.firstIndex(of: name)!))"
            case .country: return "NULL::text AS d_country"
            case .device: return "NULL::text AS d_device"
            case .event: return "NULL::text AS d_event"
            default: return ""
            }
        }
        let spend: PostgresQuery = """
            SELECT d_day, d_source, d_campaign\(unescaped: extraList),
                   0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::numeric,
                   coalesce((CASE WHEN currency = \(r.currency) THEN sum(amount) ELSE waymark_convert(sum(amount), currency, \(r.currency), d_day) END), 0), 0::numeric,
                   ((CASE WHEN currency = \(r.currency) THEN 1 ELSE waymark_convert(1, currency, \(r.currency), d_day) END) IS NULL)::int,
                   coalesce(sum(impressions), 0)::bigint
            FROM (
                SELECT e.day AS d_day, e.traffic_source_id AS d_source, e.campaign_id AS d_campaign \(fragment: dims(spendDim)), e.amount, e.currency, e.impressions
                FROM spend_entries e
                WHERE e.day BETWEEN \(r.from)::date AND \(r.to)::date AND \(fragment: filters("e"))
            ) x
            GROUP BY d_day, d_source, d_campaign\(unescaped: extraList), currency
            """
        let requested = ReportEngine.requestedColumns(r.groups, params: params)
        let select = requested.isEmpty ? "" : requested.joined(separator: ", ") + ", "
        let groupBy = requested.isEmpty ? "" : "GROUP BY " + requested.joined(separator: ", ")
        let query: PostgresQuery = """
            WITH u AS (
            \(fragment: clicks)
            UNION ALL
            \(fragment: conversions)
            UNION ALL
            \(fragment: spend)
            ), spent AS (
                SELECT DISTINCT d_day, d_source, d_campaign FROM u WHERE spend <> 0 AND d_campaign IS NOT NULL
            )
            SELECT \(unescaped: select)
                   sum(u.clicks)::bigint AS clicks, sum(u.bot_clicks)::bigint AS bot_clicks, sum(u.unique_clicks)::bigint AS unique_clicks,
                   sum(u.conversions)::bigint AS conversions, sum(u.pending)::bigint AS pending, sum(u.declined)::bigint AS declined,
                   coalesce(sum(u.revenue), 0)::text AS revenue,
                   (coalesce(sum(u.spend), 0) + coalesce(sum(u.model_cost) FILTER (WHERE s.d_day IS NULL), 0))::text AS cost,
                   coalesce(sum(u.missing), 0)::int AS missing, sum(u.impressions)::bigint AS impressions
            FROM u LEFT JOIN spent s ON s.d_day = u.d_day AND s.d_source = u.d_source AND s.d_campaign = u.d_campaign
            \(unescaped: groupBy)
            """
        // JIT compiling this plan costs more (~150 ms) than running it; the sorts fit in memory.
        let rows = try database.transaction { c in
            try c.query("SET LOCAL jit = off")
            try c.query("SET LOCAL work_mem = '64MB'")
            return try c.query(query)
        }
        let names = try nameMaps(actor)
        var out: [ReportRow] = []
        var totals = Metrics.Sums()
        var missing = 0
        for row in rows {
            let sums = try ReportEngine.sums(row)
            missing += try row.decode("missing", as: Int.self)
            var dimensions: [String: Any?] = [:]
            var labels: [String] = []
            for g in r.groups {
                switch g {
                case .day:
                    dimensions["day"] = row["d_day"]
                    labels.append(row["d_day"] ?? "")
                case .hour:
                    let text = ReportEngine.hourText(row["d_hour"], offset: row["d_offset"])
                    dimensions["hour"] = text
                    labels.append(text ?? "(daily spend)")
                case .trafficSource:
                    let id = row["d_source"].flatMap { Int64($0) }
                    dimensions["traffic_source_id"] = id
                    dimensions["traffic_source_name"] = id.flatMap { names.sources[$0] }
                    labels.append(id.flatMap { names.sources[$0] } ?? "")
                case .campaign:
                    let id = row["d_campaign"].flatMap { Int64($0) }
                    dimensions["campaign_id"] = id
                    dimensions["campaign_name"] = id.map { names.campaigns[$0] ?? "" } ?? "(unassigned)"
                    labels.append(id.map { names.campaigns[$0] ?? "" } ?? "(unassigned)")
                case .param(let name):
                    let v = row["d_p\(params.firstIndex(of: name)!)"]
                    dimensions[name] = v
                    labels.append(v ?? "(unassigned)")
                case .country:
                    dimensions["country"] = row["d_country"]
                    labels.append(row["d_country"] ?? "(unassigned)")
                case .device:
                    dimensions["device"] = row["d_device"]
                    labels.append(row["d_device"] ?? "(unassigned)")
                case .event:
                    dimensions["event"] = row["d_event"]
                    labels.append(row["d_event"] ?? "(no event)")
                }
            }
            totals = totals + sums
            out.append(ReportRow(dimensions: dimensions, sums: sums, labels: labels))
        }
        // The dashboard shows every source side by side, those without data too.
        if r.groups == [.trafficSource], r.sourceID == nil, r.campaignID == nil {
            let present = Set(out.compactMap { $0.dimensions["traffic_source_id"] as? Int64 })
            let all = try database.query(
                """
                SELECT id, name FROM traffic_sources WHERE archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("workspace_id"))
                  AND (\(r.workspaceID)::bigint IS NULL OR workspace_id = \(r.workspaceID))
                """)
            for row in all {
                let id: Int64 = try row.decode("id")
                guard !present.contains(id) else { continue }
                out.append(
                    ReportRow(
                        dimensions: ["traffic_source_id": id, "traffic_source_name": row["name"]], sums: Metrics.Sums(),
                        labels: [row["name"] ?? ""]))
            }
        }
        // A source's campaigns likewise, when the dashboard drills into it.
        if r.groups == [.campaign], let sourceID = r.sourceID, r.campaignID == nil {
            let present = Set(out.compactMap { $0.dimensions["campaign_id"] as? Int64 })
            for row in try database.query("SELECT id, name FROM campaigns WHERE archived_at IS NULL AND traffic_source_id = \(sourceID)") {
                let id: Int64 = try row.decode("id")
                guard !present.contains(id), names.campaigns[id] != nil else { continue }
                out.append(
                    ReportRow(
                        dimensions: ["campaign_id": id, "campaign_name": row["name"]], sums: Metrics.Sums(), labels: [row["name"] ?? ""]))
            }
        }
        out.sort { $0.labels.lexicographicallyPrecedes($1.labels) }
        var warnings: [String] = []
        if missing > 0 {
            warnings.append(
                "Some amounts have no FX rate to \(r.currency) on or before their day and are left out: import rates (FX rates page).")
        }
        return ReportResult(request: r, rows: out, totals: totals, warnings: warnings)
    }

    /// `whole`: the zone's offset is whole hours at every hour of the period (then hourly
    /// roll-ups cut its days exactly). Unknown zones fail with 22023.
    /// Today's date (`YYYY-MM-DD`) in `zone`, by PostgreSQL's zone rules.
    public func today(in zone: String) throws -> String {
        try database.query("SELECT (now() AT TIME ZONE \(zone))::date::text AS d").first?["d"] ?? Dates.day(Date())
    }

    public static func wholeHours(_ zone: String, from: PostgresQuery, to: PostgresQuery) -> PostgresQuery {
        """
        SELECT bool_and(extract(epoch FROM (h AT TIME ZONE \(zone)) - (h AT TIME ZONE 'UTC'))::int % 3600 = 0) AS whole
        FROM generate_series(\(fragment: from), \(fragment: to), interval '1 hour') AS h
        """
    }

    public static func sums(_ row: PostgresRow) throws -> Metrics.Sums {
        func d(_ c: String) -> Decimal { Decimal(string: row[c] ?? "0") ?? 0 }
        var s = Metrics.Sums()
        s.clicks = d("clicks")
        s.botClicks = d("bot_clicks")
        s.uniqueClicks = d("unique_clicks")
        s.impressions = d("impressions")
        s.conversions = d("conversions")
        s.pendingConversions = d("pending")
        s.declinedConversions = d("declined")
        s.revenue = d("revenue")
        s.cost = d("cost")
        return s
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
            default: break
            }
        }
        return out
    }

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
            }
        }
    }

    /// Local hour start with its UTC offset, RFC 3339 (`2026-03-29T01:00:00+01:00`).
    public static func hourText(_ local: String?, offset: String?) -> String? {
        guard let local, let seconds = offset.flatMap({ Int($0) }) else { return nil }
        let sign = seconds < 0 ? "-" : "+"
        let a = abs(seconds)
        return String(local.prefix(19)).replacingOccurrences(of: " ", with: "T")
            + String(format: "%@%02d:%02d", sign, a / 3600, (a % 3600) / 60)
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

    private func slotMap(_ actor: Actor) throws -> [Int64: [String: Int]] {
        var out: [Int64: [String: Int]] = [:]
        for row in try database.query(
            "SELECT id, parameters::text AS parameters FROM traffic_sources WHERE \(fragment: actor.visibleWorkspaces("workspace_id"))")
        {
            let parameters = (try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data((row["parameters"] ?? "[]").utf8))) ?? []
            out[try row.decode("id")] = Dictionary(parameters.map { ($0.name, $0.slot) }, uniquingKeysWith: { a, _ in a })
        }
        return out
    }

    private func nameMaps(_ actor: Actor) throws -> (sources: [Int64: String], campaigns: [Int64: String]) {
        var sources: [Int64: String] = [:], campaigns: [Int64: String] = [:]
        for r in try database.query("SELECT id, name FROM traffic_sources WHERE \(fragment: actor.visibleWorkspaces("workspace_id"))") {
            sources[try r.decode("id")] = r["name"]
        }
        for r in try database.query(
            """
            SELECT c.id, c.name FROM campaigns c JOIN traffic_sources s ON s.id = c.traffic_source_id WHERE \(fragment: actor.visibleWorkspaces("s.workspace_id"))
            """)
        {
            campaigns[try r.decode("id")] = r["name"]
        }
        return (sources, campaigns)
    }
}
