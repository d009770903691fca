import Catalog
import Foundation
import HTTPClient
import Postgres
import WaymarkCore
import Web

/// Spend feeds in PostgreSQL: CRUD through the source's visibility rules, headers sealed, the
/// run history, the schedule (claimed by workers under `FOR UPDATE SKIP LOCKED`), and the
/// pause after too many failed runs in a row.
public struct SpendFeedStore: Sendable {
    public let database: PostgresPool
    public let secrets: IntegrationSecrets
    public let sources: TrafficSourceStore
    public let runner: SpendFeedRunner

    public init(database: PostgresPool, secrets: IntegrationSecrets, sources: TrafficSourceStore, outbound: OutboundPolicy) {
        self.database = database
        self.secrets = secrets
        self.sources = sources
        runner = SpendFeedRunner(database: database, secrets: secrets, outbound: outbound)
    }

    public func list(sourceID: Int64) throws -> [SpendFeed] {
        try database.query(
            "SELECT \(fragment: SpendFeed.columns) FROM spend_feeds WHERE traffic_source_id = \(sourceID) ORDER BY lower(name), id"
        ).map(SpendFeed.decode)
    }

    /// A feed of a source the actor sees.
    public func get(_ id: Int64, sourceID: Int64, for actor: Actor) throws -> SpendFeed {
        _ = try sources.get(sourceID, for: actor)
        guard
            let feed = try database.query(
                "SELECT \(fragment: SpendFeed.columns) FROM spend_feeds WHERE id = \(id) AND traffic_source_id = \(sourceID)"
            ).first.map(SpendFeed.decode)
        else { throw HTTPError.notFound("no spend feed \(id) on this traffic source") }
        return feed
    }

    public func sealedHeaders(_ headers: [(String, String)]) throws -> String? {
        guard !headers.isEmpty else { return nil }
        let data = try JSONSerialization.data(withJSONObject: headers.map { [$0.0, $0.1] })
        return try secrets.seal(String(decoding: data, as: UTF8.self))
    }

    /// The feed's headers as stored (sealed), nil without any.
    public func headersSealed(_ feedID: Int64) throws -> String? {
        try database.query("SELECT headers_sealed FROM spend_feeds WHERE id = \(feedID)").first?["headers_sealed"]
    }

    public func mappingJSON(_ m: SpendFeed.Mapping) throws -> String { String(decoding: try JSONEncoder().encode(m), as: UTF8.self) }

    public func create(sourceID: Int64, _ draft: SpendFeedDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> SpendFeed {
        let source = try sources.get(sourceID, for: actor)
        try actor.requireEditable(workspace: source.workspaceID)
        try check(draft, inputErrors)
        let headers = draft.headers ?? []
        return try database.transaction { c in
            let id: Int64 = try c.query(
                """
                INSERT INTO spend_feeds (traffic_source_id, workspace_id, name, url, method, headers_sealed, header_names, format,
                                         json_path, mapping, date_format, time_zone, every_hours, daily_at, lookback_days,
                                         timeout_seconds, max_failures, status, next_run_at, created_by)
                VALUES (\(source.id), \(source.workspaceID), \(draft.name), \(draft.url), \(draft.method), \(try sealedHeaders(headers)),
                        \(headers.map(\.0))::text[], \(draft.format), \(draft.jsonPath), \(try mappingJSON(draft.mapping))::jsonb,
                        \(draft.dateFormat), \(draft.timeZone), \(draft.everyHours), \(draft.dailyAt), \(draft.lookbackDays),
                        \(draft.timeoutSeconds), \(draft.maxFailures),
                        \(draft.status), \(draft.schedule.firstRun(after: Date())),
                        \(actor.userID))
                RETURNING id
                """)[0].decode("id")
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "spend_feed", objectID: id, workspaceID: source.workspaceID,
                new: ["name": draft.name, "url": draft.url, "traffic_source_id": Int(source.id), "headers": headers.map(\.0)])
            return try SpendFeed.decode(c.query("SELECT \(fragment: SpendFeed.columns) FROM spend_feeds WHERE id = \(id)")[0])
        }
    }

    public func update(_ feed: SpendFeed, _ draft: SpendFeedDraft, by actor: Actor, inputErrors: [String: String] = [:]) throws -> SpendFeed
    {
        try actor.requireEditable(workspace: feed.workspaceID)
        try check(draft, inputErrors)
        return try database.transaction { c in
            if let headers = draft.headers {
                try c.query(
                    """
                    UPDATE spend_feeds SET headers_sealed = \(try sealedHeaders(headers)), header_names = \(headers.map(\.0))::text[]
                    WHERE id = \(feed.id)
                    """)
            }
            let edit = feed.health.editing(
                to: draft.status, scheduleChanged: draft.everyHours != feed.everyHours || draft.dailyAt != feed.dailyAt)
            try c.query(
                """
                UPDATE spend_feeds SET name = \(draft.name), url = \(draft.url), method = \(draft.method), format = \(draft.format),
                  json_path = \(draft.jsonPath),
                  mapping = \(try mappingJSON(draft.mapping))::jsonb, date_format = \(draft.dateFormat), time_zone = \(draft.timeZone),
                  every_hours = \(draft.everyHours), daily_at = \(draft.dailyAt), lookback_days = \(draft.lookbackDays),
                  timeout_seconds = \(draft.timeoutSeconds), max_failures = \(draft.maxFailures), status = \(draft.status),
                  paused_reason = CASE WHEN \(edit.clearsReason) THEN NULL ELSE paused_reason END,
                  consecutive_failures = CASE WHEN \(edit.restarts) THEN 0 ELSE consecutive_failures END,
                  next_run_at = CASE WHEN \(edit.restarts) THEN \(draft.schedule.firstRun(after: Date())) ELSE next_run_at END,
                  updated_at = now()
                WHERE id = \(feed.id)
                """)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "spend_feed", objectID: feed.id, workspaceID: feed.workspaceID,
                old: ["name": feed.name, "url": feed.url, "status": feed.status],
                new: ["name": draft.name, "url": draft.url, "status": draft.status])
            return try SpendFeed.decode(c.query("SELECT \(fragment: SpendFeed.columns) FROM spend_feeds WHERE id = \(feed.id)")[0])
        }
    }

    public func delete(_ feed: SpendFeed, by actor: Actor) throws {
        try actor.requireEditable(workspace: feed.workspaceID)
        try database.transaction { c in
            try c.query("DELETE FROM spend_feeds WHERE id = \(feed.id)")
            try AuditLog.record(
                c, actor: actor, action: "delete", objectType: "spend_feed", objectID: feed.id, workspaceID: feed.workspaceID,
                old: ["name": feed.name, "url": feed.url])
        }
    }

    public func check(_ draft: SpendFeedDraft, _ inputErrors: [String: String]) throws {
        let errors = draft.check().merging(inputErrors) { _, b in b }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
    }

    /// Run now: the worker runs the feed (its calls may take minutes); the caller waits up to
    /// `seconds` for the run's record (as `runs` lists it), nil while it is still running.
    public func requestRun(_ feed: SpendFeed, wait seconds: Double) throws -> SpendFeedRun? {
        let requested: Date = try database.query(
            """
            UPDATE spend_feeds SET run_requested_at = clock_timestamp() WHERE id = \(feed.id) RETURNING run_requested_at
            """)[0].decode("run_requested_at")
        try database.query("NOTIFY waymark_integrations")
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            usleep(200_000)
            if let run = try runs(feed.id, limit: 1, manualSince: requested).first { return run }
        }
        return nil
    }

    /// Runs a feed now and records the run; a preview stores nothing and leaves the health
    /// alone. `deadline` bounds a run made on a responder thread (a preview).
    public func run(_ feed: SpendFeed, trigger: String, deadline: Date? = nil) throws -> SpendFeedRunner.Outcome {
        let runID: Int64 = try database.query(
            "INSERT INTO spend_feed_runs (feed_id, trigger) VALUES (\(feed.id), \(trigger)) RETURNING id")[0].decode("id")
        let outcome = runner.run(feed, sealedHeaders: { try headersSealed(feed.id) }, store: trigger != "preview", deadline: deadline)
        let rejected = String(decoding: try JSONEncoder().encode(Array(outcome.rejected.prefix(100))), as: UTF8.self)
        try database.query(
            """
            UPDATE spend_feed_runs SET finished_at = now(), window_from = \(outcome.from)::date, window_to = \(outcome.to)::date,
              http_status = \(outcome.httpStatus), rows_read = \(outcome.read), rows_imported = \(outcome.imported),
              rows_rejected = \(outcome.rejected.count), rejected = \(rejected)::jsonb, status = \(outcome.ok ? "success" : "failed"),
              error = \(outcome.error)
            WHERE id = \(runID)
            """)
        guard trigger != "preview" else { return outcome }
        try record(feed.id, outcome.error.map { .failed($0) } ?? .succeeded)
        return outcome
    }

    /// Applies the pause rule to the feed's health as stored now (locked, so a concurrent edit
    /// or run is not lost).
    func record(_ feedID: Int64, _ run: SpendFeedHealth.Run) throws {
        try database.transaction { c in
            guard
                let row = try c.query(
                    """
                    SELECT status, consecutive_failures, max_failures, paused_reason FROM spend_feeds WHERE id = \(feedID) FOR UPDATE
                    """
                ).first
            else { return }
            let health = SpendFeedHealth(
                status: try row.decode("status"), consecutiveFailures: try row.decode("consecutive_failures"),
                maxFailures: try row.decode("max_failures"), pausedReason: row["paused_reason"]
            ).recording(run)
            try c.query(
                """
                UPDATE spend_feeds SET consecutive_failures = \(health.consecutiveFailures), last_run_at = now(), status = \(health.status),
                  paused_reason = \(health.pausedReason)
                WHERE id = \(feedID)
                """)
        }
    }

    /// The worker: runs every due active feed once. A lease (`run_leased_until`: one fetch per
    /// day of the window, each within the feed's timeout, and a minute more) keeps another
    /// worker off a feed being run, a Run now included; a dead worker's lease ends by itself.
    @discardableResult
    public func runDue(stopping: () -> Bool = { false }) -> Int {
        var ran = 0
        let lease: PostgresQuery = "now() + make_interval(secs => timeout_seconds * (lookback_days + 2) + 60)"
        while !stopping() {
            // Run-now requests first, a paused feed's too: someone asked for it. One asked for
            // while the feed runs stays queued and runs right after.
            if let feed = try? database.query(
                """
                UPDATE spend_feeds SET run_requested_at = NULL, run_leased_until = \(fragment: lease)
                WHERE id = (SELECT id FROM spend_feeds WHERE run_requested_at IS NOT NULL
                              AND (run_leased_until IS NULL OR run_leased_until <= now())
                            ORDER BY run_requested_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING \(fragment: SpendFeed.columns)
                """
            ).first.map(SpendFeed.decode) {
                _ = try? run(feed, trigger: "manual")
                _ = try? database.query("UPDATE spend_feeds SET run_leased_until = NULL WHERE id = \(feed.id)")
                ran += 1
                continue
            }
            guard
                let feed = try? database.query(
                    """
                    UPDATE spend_feeds SET next_run_at = now() + interval '10 minutes', run_leased_until = \(fragment: lease)
                    WHERE id = (SELECT id FROM spend_feeds WHERE status = 'active' AND next_run_at <= now()
                                  AND (run_leased_until IS NULL OR run_leased_until <= now())
                                  AND traffic_source_id IN (SELECT id FROM traffic_sources WHERE archived_at IS NULL)
                                ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
                    RETURNING \(fragment: SpendFeed.columns)
                    """
                ).first.map(SpendFeed.decode)
            else { break }
            _ = try? run(feed, trigger: "schedule")
            let next = feed.schedule.nextRun(after: Date())
            _ = try? database.query("UPDATE spend_feeds SET next_run_at = \(next), run_leased_until = NULL WHERE id = \(feed.id)")
            ran += 1
        }
        return ran
    }

    /// Spend feeds whose last runs failed, or paused, with why.
    public func failing(for actor: Actor) throws -> [[String: String]] {
        let rows = try database.query(
            """
            SELECT f.id, f.traffic_source_id, f.name, f.status, f.consecutive_failures, f.paused_reason, s.name AS source_name,
                   (SELECT error FROM spend_feed_runs r WHERE r.feed_id = f.id AND r.status = 'failed' ORDER BY r.id DESC LIMIT 1)
                     AS last_error
            FROM spend_feeds f JOIN traffic_sources s ON s.id = f.traffic_source_id
            WHERE (f.consecutive_failures > 0 OR f.status = 'paused') AND \(fragment: actor.visibleWorkspaces("f.workspace_id"))
            ORDER BY f.consecutive_failures DESC, f.id
            """)
        return rows.map { r -> [String: String] in
            let reason: String = r["paused_reason"] ?? r["last_error"] ?? ""
            return [
                "id": r["id"] ?? "", "source_id": r["traffic_source_id"] ?? "", "name": r["name"] ?? "", "source": r["source_name"] ?? "",
                "status": r["status"] ?? "", "failures": r["consecutive_failures"] ?? "0", "reason": reason,
            ]
        }
    }

    /// The feed's runs, newest first; with `manualSince`, only finished manual runs started then or later.
    public func runs(_ feedID: Int64, limit: Int = 50, manualSince: Date? = nil) throws -> [SpendFeedRun] {
        try database.query(
            """
            SELECT \(fragment: SpendFeedRun.columns)
            FROM spend_feed_runs WHERE feed_id = \(feedID)
              AND (\(manualSince)::timestamptz IS NULL OR (trigger = 'manual' AND started_at >= \(manualSince) AND finished_at IS NOT NULL))
            ORDER BY id DESC LIMIT \(limit)
            """
        ).map(SpendFeedRun.decode)
    }
}
