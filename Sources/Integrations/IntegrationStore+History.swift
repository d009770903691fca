import Catalog
import Foundation
import Postgres
import Web

/// An integration's history: its syncs and tests, and the conversions pushed through it.
extension IntegrationStore {
    public func startSync(_ id: Int64, kind: String, from: String? = nil, to: String? = nil) throws -> Int64 {
        try database.query(
            """
            INSERT INTO integration_syncs (integration_id, kind, window_from, window_to) VALUES (\(id), \(kind), \(from)::date,
              \(to)::date) RETURNING id
            """)[0].decode("id")
    }

    public func finishSync(_ syncID: Int64, status: String, read: Int = 0, written: Int = 0, error: String? = nil) throws {
        try database.query(
            """
            UPDATE integration_syncs SET finished_at = now(), status = \(status), records_read = \(read), records_written = \(written),
              error = \(error)
            WHERE id = \(syncID)
            """)
    }

    /// One pull or test (`{type, started_at, finished_at, status, window, records_read, …}`).
    public struct SyncEntry: Sendable, Encodable {
        public var kind: String
        public var startedAt: Date
        @Nullable public var finishedAt: Date?
        public var status: String
        public var window: String
        public var read: Int
        public var written: Int
        @Nullable public var error: String?

        enum CodingKeys: String, CodingKey {
            case startedAt, finishedAt, status, window, error
            case kind = "type"
            case read = "records_read"
            case written = "records_written"
        }
    }

    public func history(_ id: Int64, limit: Int = 50) throws -> [SyncEntry] {
        try database.query(
            """
            SELECT kind, started_at, finished_at, status, coalesce(window_from::text || ' – ' || window_to::text, '') AS win,
                   records_read, records_written, error
            FROM integration_syncs WHERE integration_id = \(id) ORDER BY started_at DESC, id DESC LIMIT \(limit)
            """
        ).map { r in
            SyncEntry(
                kind: try r.decode("kind"), startedAt: try r.decode("started_at"), finishedAt: try r.decode("finished_at", as: Date?.self),
                status: try r.decode("status"), window: r["win"] ?? "", read: try r.decode("records_read"),
                written: try r.decode("records_written"), error: r["error"])
        }
    }

    /// One conversion pushed through an integration, with the provider's last answer.
    public struct PushEntry: Sendable, Encodable {
        public var deliveryID: Int64
        @Nullable public var conversionID: String?
        @Nullable public var clickID: String?
        public var state: String
        public var attempts: Int
        @Nullable public var error: String?
        public var queuedAt: Date
        @Nullable public var httpStatus: Int?
        @Nullable public var answer: String?
        @Nullable public var payload: String?
    }

    /// Push History: the newest pushes first.
    public func pushes(_ integrationID: Int64, limit: Int = 100) throws -> [PushEntry] {
        try database.query(
            """
            SELECT d.id, d.conversion_id, d.click_id, d.state, d.attempts, d.last_error, d.created_at, d.body,
                   (SELECT http_status FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS http_status,
                   (SELECT response_excerpt FROM delivery_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1) AS answer
            FROM deliveries d WHERE d.kind = 'capi' AND d.target_id = \(integrationID) ORDER BY d.id DESC LIMIT \(limit)
            """
        ).map { r in
            PushEntry(
                deliveryID: try r.decode("id"), conversionID: r["conversion_id"], clickID: r["click_id"], state: r["state"] ?? "",
                attempts: try r.decode("attempts"), error: r["last_error"], queuedAt: try r.decode("created_at"),
                httpStatus: r["http_status"].flatMap { Int($0) }, answer: r["answer"], payload: r["body"])
        }
    }

    /// The conversion event keys of a workspace (or of Public sources), for the mapping form.
    public func eventKeys(workspaceID: Int64?) throws -> [String] {
        try database.query(
            """
            SELECT key FROM conversion_events WHERE coalesce(workspace_id, 0) = coalesce(\(workspaceID)::bigint, 0) ORDER BY key
            """
        ).compactMap { $0["key"] }
    }
}
