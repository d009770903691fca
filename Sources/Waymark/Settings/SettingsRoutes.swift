import Foundation
import WaymarkCore
import Web

/// Settings (owners): the index of what an installation sets up, and Retention — how long
/// clicks, unattributed postbacks and finished deliveries are kept, in one place.
struct SettingsRoutes {
    let shell: AdminShell
    let store: RetentionSettingsStore
    let environment: RetentionOverrides

    func register(on router: Router) {
        router.get("/settings", shell.page(index))
        router.get("/settings/retention", shell.page(retentionPage))
        router.post("/settings/retention", shell.page(saveRetention))
    }

    private func index(_ request: Request, _ actor: Actor) throws -> Response {
        try shell.render(
            request, actor: actor, template: "settings/index", title: "Settings", context: ["is_owner": actor.canManageUsers],
            section: "settings")
    }

    private func retentionPage(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireOwner()
        let saved = try store.get()
        let values = [
            "click_days": String(saved.settings.clickDays), "unattributed_days": String(saved.settings.unattributedDays),
            "delivery_days": String(saved.settings.deliveryDays),
        ]
        return try render(request, actor, state: FormState(values: values), saved: saved)
    }

    private func render(
        _ request: Request, _ actor: Actor, state: FormState,
        saved: (settings: RetentionSettings, updatedAt: Date?, updatedBy: String?), status: Int = 200
    ) throws -> Response {
        var context = state.context
        let effective = saved.settings.overridden(by: environment)
        let rows: [(String, String, String, Int?, Int)] = [
            ("click_days", "Raw clicks", "WAYMARK_CLICK_RETENTION_DAYS", environment.clickDays, effective.clickDays),
            (
                "unattributed_days", "Unattributed postbacks", "WAYMARK_UNATTRIBUTED_RETENTION_DAYS", environment.unattributedDays,
                effective.unattributedDays
            ),
            ("delivery_days", "Delivery history", "WAYMARK_DELIVERY_RETENTION_DAYS", environment.deliveryDays, effective.deliveryDays),
        ]
        context["rows"] = rows.map { row -> [String: Any] in
            var item: [String: Any] = [
                "name": row.0, "label": row.1, "variable": row.2, "value": state.values[row.0] ?? "",
                "effective": row.4 == 0 ? "kept forever" : "\(row.4) days",
            ]
            if let error = state.errors[row.0] { item["error"] = error }
            if row.3 != nil { item["from_environment"] = true }
            return item
        }
        if let at = saved.updatedAt { context["updated"] = RFC3339.string(from: at) + " by " + (saved.updatedBy ?? "") }
        return try shell.render(
            request, actor: actor, template: "settings/retention", title: "Retention", context: context, status: status,
            section: "settings")
    }

    private func saveRetention(_ request: Request, _ actor: Actor) throws -> Response {
        let fields = try request.form()
        do {
            try store.save(Dictionary(fields, uniquingKeysWith: { first, _ in first }), by: actor)
        } catch let error as HTTPError where error.status == 422 {
            var state = FormState(fields: fields)
            state.errors = error.fields
            return try render(request, actor, state: state, saved: try store.get(), status: 422)
        }
        return AdminShell.redirect(to: "/settings/retention", flash: "Retention saved; the worker applies it within a minute.")
    }
}
