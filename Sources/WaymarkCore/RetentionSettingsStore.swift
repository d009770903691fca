import Foundation
import Postgres
import Web

/// How long raw data is kept (Settings → Retention, docs/operations.md): days of clicks, of
/// unattributed postbacks and of finished deliveries; 0 keeps forever.
public struct RetentionSettings: Sendable, Equatable {
    public var clickDays: Int
    public var unattributedDays: Int
    public var deliveryDays: Int

    public init(clickDays: Int, unattributedDays: Int, deliveryDays: Int) {
        self.clickDays = clickDays
        self.unattributedDays = unattributedDays
        self.deliveryDays = deliveryDays
    }

    public static let defaults = RetentionSettings(clickDays: 400, unattributedDays: 90, deliveryDays: 90)
    public static let maxDays = 36500

    /// The environment's values (`WAYMARK_*_RETENTION_DAYS`) over these, field by field.
    public func overridden(by environment: RetentionOverrides) -> RetentionSettings {
        RetentionSettings(
            clickDays: environment.clickDays ?? clickDays, unattributedDays: environment.unattributedDays ?? unattributedDays,
            deliveryDays: environment.deliveryDays ?? deliveryDays)
    }
}

/// Retention days set in the environment; nil where not set.
public struct RetentionOverrides: Sendable {
    public var clickDays: Int?
    public var unattributedDays: Int?
    public var deliveryDays: Int?

    public init(clickDays: Int?, unattributedDays: Int?, deliveryDays: Int?) {
        self.clickDays = clickDays
        self.unattributedDays = unattributedDays
        self.deliveryDays = deliveryDays
    }
}

public struct RetentionSettingsStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public func get() throws -> (settings: RetentionSettings, updatedAt: Date?, updatedBy: String?) {
        guard let r = try database.query("SELECT * FROM retention_settings WHERE id = 1").first else {
            return (RetentionSettings.defaults, nil, nil)
        }
        return (
            RetentionSettings(
                clickDays: try r.decode("click_days"), unattributedDays: try r.decode("unattributed_days"),
                deliveryDays: try r.decode("delivery_days")), try r.decode("updated_at", as: Date?.self), r["updated_by"]
        )
    }

    /// Owners only; each value 0…36 500 days (422 naming the field otherwise). Audited.
    public func save(_ fields: [String: String], by actor: Actor) throws {
        try actor.requireOwner()
        var values: [String: Int] = [:]
        var errors: [String: String] = [:]
        // Clicks below a month would empty the reports by mistake (the worker drops whole days).
        for (name, least) in [("click_days", 30), ("unattributed_days", 1), ("delivery_days", 1)] {
            let text = (fields[name] ?? "").trimmingCharacters(in: .whitespaces)
            if let n = Int(text), n == 0 || (least...RetentionSettings.maxDays).contains(n) {
                values[name] = n
            } else {
                errors[name] = "0 (keep forever) or a whole number of days from \(least) to \(RetentionSettings.maxDays)"
            }
        }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
        let old = try get().settings
        try database.transaction { c in
            try c.query(
                """
                UPDATE retention_settings SET click_days = \(values["click_days"]!), unattributed_days = \(values["unattributed_days"]!),
                    delivery_days = \(values["delivery_days"]!), updated_at = now(), updated_by = \(actor.email)
                WHERE id = 1
                """)
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "retention_settings", objectID: 1,
                old: ["click_days": old.clickDays, "unattributed_days": old.unattributedDays, "delivery_days": old.deliveryDays],
                new: values)
        }
    }
}
