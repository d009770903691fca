import CSV
import Catalog
import Foundation
import Postgres
import WaymarkCore
import Web

/// A checked row, ready to store.
public struct SpendEntry: Sendable {
    public var row: Int
    public var day: String
    public var sourceID: Int64
    public var sourceName: String
    public var workspaceID: Int64?
    public var campaignID: Int64?
    public var dimensions: [String: String]
    public var amount: String
    public var currency: String
    /// The dimensions as JSON, made once (it is part of the key and of the stored row).
    public var dimensionsJSON: String

    /// Sorted keys; by hand, since this runs for every imported row.
    public static func json(_ dimensions: [String: String]) -> String {
        guard !dimensions.isEmpty else { return "{}" }
        return "{" + dimensions.sorted { $0.key < $1.key }.map { quote($0.key) + ":" + quote($0.value) }.joined(separator: ",") + "}"
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

public struct SpendRowError: Sendable {
    public var row: Int
    public var field: String
    public var message: String
    public var json: [String: Any] { ["row": row, "field": field, "message": message] }
}

/// Checks spend rows against what the actor may change: sources by id or exact name, their
/// campaigns by id, key or exact name, dimensions among the source's parameters, amounts as
/// plain non-negative decimals, currencies that convert to the workspace's currency.
public struct SpendChecker {
    public struct Source {
        public var id: Int64
        public var name: String
        public var workspaceID: Int64?
        public var currency: String  // the reporting currency amounts convert to
        public var parameters: Set<String>
    }

    public struct CampaignRef {
        public var id: Int64
        public var key: String
        public var name: String
        public var sourceID: Int64
    }

    public let sources: [Source]
    public let sourcesByID: [Int64: Source]
    public let campaigns: [CampaignRef]
    public let firstRates: [String: String]

    public init(database: PostgresPool, actor: Actor) throws {
        var sources: [Source] = []
        for r in try database.query(
            """
            SELECT s.id, s.name, s.workspace_id, coalesce(w.currency, 'USD') AS currency, s.parameters::text AS parameters
            FROM traffic_sources s LEFT JOIN workspaces w ON w.id = s.workspace_id
            WHERE s.archived_at IS NULL AND \(fragment: actor.visibleWorkspaces("s.workspace_id"))
            """)
        {
            let workspaceID = try r.decode("workspace_id", as: Int64?.self)
            guard actor.canEdit(workspace: workspaceID) else { continue }
            let parameters = (try? JSONDecoder().decode([TrafficSource.Parameter].self, from: Data((r["parameters"] ?? "[]").utf8))) ?? []
            sources.append(
                Source(
                    id: try r.decode("id"), name: try r.decode("name"), workspaceID: workspaceID, currency: try r.decode("currency"),
                    parameters: Set(parameters.map(\.name))))
        }
        let ids = sources.map(\.id)
        campaigns = try database.query(
            """
            SELECT id, key, name, traffic_source_id FROM campaigns WHERE archived_at IS NULL AND traffic_source_id = ANY(\(ids)::bigint[])
            """
        ).map {
            CampaignRef(
                id: try $0.decode("id"), key: try $0.decode("key"), name: try $0.decode("name"),
                sourceID: try $0.decode("traffic_source_id"))
        }
        self.sources = sources
        sourcesByID = Dictionary(sources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        firstRates = try FXStore(database: database).firstDays()
    }

    /// The checked entries, or every problem found (all rows are checked either way).
    public func check(_ inputs: [SpendInput]) -> (entries: [SpendEntry], errors: [SpendRowError]) {
        var entries: [SpendEntry] = []
        var errors: [SpendRowError] = []
        let today = Dates.day(Date().addingTimeInterval(86400))
        for input in inputs {
            var rowErrors: [SpendRowError] = []
            func fail(_ field: String, _ message: String) {
                rowErrors.append(SpendRowError(row: input.row, field: field, message: message))
            }
            let date = input.date.trimmingCharacters(in: .whitespaces)
            if Dates.parseDay(date) == nil {
                fail("date", "must be a date YYYY-MM-DD")
            } else if date > today || date < "2000-01-01" {
                fail("date", "is out of range")
            }
            let source = resolveSource(input.source.trimmingCharacters(in: .whitespaces), fail: { fail("traffic_source", $0) })
            var campaignID: Int64?
            let campaignText = input.campaign.trimmingCharacters(in: .whitespaces)
            if let source, !campaignText.isEmpty {
                let matches = campaigns.filter {
                    $0.sourceID == source.id && (String($0.id) == campaignText || $0.key == campaignText || $0.name == campaignText)
                }
                if matches.count == 1 {
                    campaignID = matches[0].id
                } else if matches.isEmpty {
                    fail("campaign", "no campaign \"\(campaignText)\" on traffic source \(source.name)")
                } else {
                    fail("campaign", "\"\(campaignText)\" names \(matches.count) campaigns: use the id or key")
                }
            }
            let amount = input.amount.trimmingCharacters(in: .whitespaces)
            if amount.hasPrefix("-") {
                fail("amount", "must not be negative")
            } else if !Decimals.isPlain(amount) {
                fail("amount", "must be a decimal number with . as separator and at most 6 decimals")
            }
            let currency = input.currency.trimmingCharacters(in: .whitespaces).uppercased()
            if !Currency.isKnown(currency) {
                fail("currency", "must be an ISO 4217 code")
            } else if let source, Dates.parseDay(date) != nil,
                let problem = FXStore.problem(currency, to: source.currency, day: date, firstDays: firstRates)
            {
                fail("currency", problem)
            }
            var dimensions: [String: String] = [:]
            for (name, value) in input.dimensions where !value.trimmingCharacters(in: .whitespaces).isEmpty {
                if let source, !source.parameters.contains(name) {
                    fail(name, "is not a tracking parameter of \(source.name)")
                } else if value.utf8.contains(0) {
                    // NUL: a JSON value of another type (see SpendInput.fromJSON), or a CSV byte jsonb cannot keep.
                    fail(name, value == "\u{0}invalid" ? "must be a string or a number" : "must not contain NUL characters")
                } else {
                    dimensions[name] = value.trimmingCharacters(in: .whitespaces)
                }
            }
            if rowErrors.isEmpty, let source {
                entries.append(
                    SpendEntry(
                        row: input.row, day: date, sourceID: source.id, sourceName: source.name, workspaceID: source.workspaceID,
                        campaignID: campaignID, dimensions: dimensions, amount: amount, currency: currency,
                        dimensionsJSON: SpendEntry.json(dimensions)))
            }
            errors += rowErrors
        }
        return (entries, errors)
    }

    private func resolveSource(_ text: String, fail: (String) -> Void) -> Source? {
        if text.isEmpty {
            fail("is required")
            return nil
        }
        if let id = Int64(text), let s = sourcesByID[id] { return s }
        let named = sources.filter { $0.name.lowercased() == text.lowercased() }
        if named.count == 1 { return named[0] }
        fail(
            named.isEmpty
                ? "no traffic source \"\(text)\" that you may change" : "\"\(text)\" names \(named.count) traffic sources: use the id")
        return nil
    }
}

/// Spend entries in PostgreSQL: upserts by key in one transaction (all or nothing).
public struct SpendStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public struct Result: Sendable {
        public var created: Int
        public var replaced: Int
    }

    /// A spend feed's run: its entries of the window are replaced, in the same transaction.
    public struct FeedWindow: Sendable {
        public var feedID: Int64
        public var from: String
        public var to: String
    }

    /// Stores the entries (a repeated key in the batch: the last one wins) in chunks, calling
    /// `progress` with the rows done so far.
    public func store(_ entries: [SpendEntry], origin: String, by actor: Actor, feed: FeedWindow? = nil, progress: (Int) -> Void = { _ in })
        throws -> Result
    {
        var byKey: [String: SpendEntry] = [:]
        var order: [String] = []
        for e in entries {
            let key = "\(e.day)|\(e.sourceID)|\(e.campaignID ?? 0)|\(e.dimensionsJSON)"
            if byKey[key] == nil { order.append(key) }
            byKey[key] = e
        }
        let unique = order.map { byKey[$0]! }
        return try database.transaction { c in
            var result = Result(created: 0, replaced: 0)
            if let feed {
                try c.query(
                    "DELETE FROM spend_entries WHERE feed_id = \(feed.feedID) AND day BETWEEN \(feed.from)::date AND \(feed.to)::date")
            }
            var offset = 0
            while offset < unique.count {
                let chunk = Array(unique[offset..<min(unique.count, offset + 5000)])
                let rows = try c.query(
                    PostgresQuery(
                        unescaped: """
                            INSERT INTO spend_entries (workspace_id, day, traffic_source_id, campaign_id, dimensions, amount, currency, origin, created_by, feed_id)
                            SELECT u.w, u.d, u.s, u.c, u.dim, u.a, u.cur, $8, $9, $10::bigint
                            FROM unnest($1::bigint[], $2::date[], $3::bigint[], $4::bigint[], $5::jsonb[], $6::numeric[], $7::text[]) AS u(w, d, s, c, dim, a, cur)
                            ON CONFLICT (day, traffic_source_id, coalesce(campaign_id, 0), dimensions)
                            DO UPDATE SET amount = excluded.amount, currency = excluded.currency, origin = excluded.origin,
                                          created_by = excluded.created_by, feed_id = excluded.feed_id, updated_at = now()
                            RETURNING (xmax = 0) AS created
                            """,
                        binds: [
                            PostgresArrayLiteral.encode(chunk.map { $0.workspaceID.map(String.init) }),
                            PostgresArrayLiteral.encode(chunk.map(\.day)),
                            PostgresArrayLiteral.encode(chunk.map { String($0.sourceID) }),
                            PostgresArrayLiteral.encode(chunk.map { $0.campaignID.map(String.init) }),
                            PostgresArrayLiteral.encode(chunk.map(\.dimensionsJSON)), PostgresArrayLiteral.encode(chunk.map(\.amount)),
                            PostgresArrayLiteral.encode(chunk.map(\.currency)), origin, actor.auditLabel, feed.map { String($0.feedID) },
                        ]))
                for r in rows { if try r.decode("created", as: Bool.self) { result.created += 1 } else { result.replaced += 1 } }
                offset += chunk.count
                progress(offset)
            }
            let workspaces = Set(unique.map(\.workspaceID))
            for w in workspaces {
                try AuditLog.record(
                    c, actor: actor, action: "import", objectType: "spend", objectID: origin, workspaceID: w,
                    new: ["entries": unique.filter { $0.workspaceID == w }.count, "origin": origin])
            }
            return result
        }
    }
}
