import Catalog
import Foundation
import Postgres
import WaymarkCore
import Web

/// Provider settings, sync settings and conversion mappings.
extension IntegrationActions {
    /// Provider settings a form or the API may change, with what each must look like.
    public static let settingKeys: [String: @Sendable (String) -> String?] = [
        "pixel_id": { $0.isEmpty || (ASCII.isDigits($0) && $0.count <= 32) ? nil : "must be the pixel (dataset) id, digits 0-9 only" },
        "pixel_code": { $0.count <= 64 ? nil : "is too long" },
        "login_customer_id": {
            $0.isEmpty || (ASCII.isDigits($0.filter { $0 != "-" }) && $0.count <= 20) ? nil : "must be digits 0-9 (dashes allowed)"
        },
        "conversion_api": { ["", "click_conversions", "data_manager"].contains($0) ? nil : "must be click_conversions or data_manager" },
        "test_event_code": { $0.count <= 64 ? nil : "is too long" },
    ]

    public func updateSettings(_ integration: Integration, fields: [String: Any], actor: Actor) throws -> Integration {
        try requireEditable(integration, actor)
        var errors: [String: String] = [:]
        var settings = integration.settings
        for (key, check) in IntegrationActions.settingKeys {
            guard let value = fields[key] else { continue }
            let text = (jsonText(value) ?? "").trimmingCharacters(in: .whitespaces)
            if let problem = check(text) { errors[key] = problem } else { settings[key] = text.isEmpty ? nil : text }
        }
        let sync = IntegrationActions.syncSettings(IntegrationStore.SyncSettings(integration), fields, errors: &errors)
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
        try database.transaction { c in
            try store.saveSettings(integration.id, settings, on: c)
            try store.saveSyncSettings(integration.id, sync, on: c)
            try AuditLog.record(
                c, actor: actor, action: "integration.settings", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID,
                new: [
                    "sync_direction": sync.direction, "sync_interval_minutes": sync.intervalMinutes,
                    "lookback_days": sync.lookbackDays, "campaign_param": sync.campaignParam,
                ].merging(settings.mapValues { $0 as Any }) { a, _ in a })
        }
        return try store.get(integration.id)!
    }

    /// The sync settings the fields change, each checked; problems go to `errors`.
    static func syncSettings(_ current: IntegrationStore.SyncSettings, _ fields: [String: Any], errors: inout [String: String])
        -> IntegrationStore.SyncSettings
    {
        var sync = current
        if let v = fields["sync_direction"] {
            let text = jsonText(v) ?? ""
            if Integration.directions.contains(text) {
                sync.direction = text
            } else {
                errors["sync_direction"] = "must be pull, push or bidirectional"
            }
        }
        if let v = fields["sync_interval_minutes"] {
            if let n = Int(jsonText(v) ?? ""), (5...1440).contains(n) {
                sync.intervalMinutes = n
            } else {
                errors["sync_interval_minutes"] = "must be 5 to 1440 minutes"
            }
        }
        if let v = fields["lookback_days"] {
            if let n = Int(jsonText(v) ?? ""), (0...30).contains(n) {
                sync.lookbackDays = n
            } else {
                errors["lookback_days"] = "must be 0 to 30 days"
            }
        }
        if let v = fields["campaign_param"] {
            let text = jsonText(v) ?? ""
            if Slug.isValid(text) {
                sync.campaignParam = text
            } else {
                errors["campaign_param"] = "must be a parameter name (lower-case letters, digits, _)"
            }
        }
        return sync
    }

    public func setMappings(_ integration: Integration, _ items: [[String: Any]], actor: Actor) throws -> [IntegrationStore.Mapping] {
        try requireEditable(integration, actor)
        var errors: [String: String] = [:]
        var mappings: [IntegrationStore.Mapping] = []
        for (i, item) in items.enumerated() {
            let event = (item["event"] as? String ?? "").trimmingCharacters(in: .whitespaces)
            let action = (jsonText(item["provider_action"]) ?? "").trimmingCharacters(in: .whitespaces)
            if !Slug.isValid(event) { errors["mappings[\(i)].event"] = "must be an event key" }
            if action.isEmpty || action.count > 100 { errors["mappings[\(i)].provider_action"] = "is required (at most 100 characters)" }
            if integration.provider == "google_ads" && !ASCII.isDigits(action) {
                errors["mappings[\(i)].provider_action"] = "must be the conversion action id (digits)"
            }
            if mappings.contains(where: { $0.event == event }) { errors["mappings[\(i)].event"] = "is mapped twice" }
            mappings.append(.init(event: event, action: action, enabled: item["enabled"] as? Bool ?? true))
        }
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
        try database.transaction { c in
            try store.setMappings(integration.id, mappings, on: c)
            try AuditLog.record(
                c, actor: actor, action: "integration.mappings", objectType: "integration", objectID: integration.id,
                workspaceID: integration.workspaceID,
                new: ["mappings": mappings.map { "\($0.event)→\($0.action)\($0.enabled ? "" : " (off)")" }])
        }
        return mappings
    }
}
