import Foundation
import WaymarkCore
import Web

/// The audit log page (admins and owners), filterable by object.
struct AuditRoutes {
    let shell: AdminShell
    let audit: AuditLogStore

    func register(on router: Router) {
        router.get("/audit", shell.page(list))
    }

    private func list(_ request: Request, _ actor: Actor) throws -> Response {
        try actor.requireAdmin()
        let type = request.queryValue("object_type").flatMap { $0.isEmpty ? nil : $0 }
        let id = request.queryValue("object_id").flatMap { $0.isEmpty ? nil : $0 }
        let entries = try audit.entries(objectType: type, objectID: id)
        return try shell.render(
            request, actor: actor, template: "audit/list", title: "Audit log",
            context: [
                "entries": entries.map { e in
                    [
                        "at": RFC3339.string(from: e.at), "actor": e.actor, "via": e.via, "action": e.action,
                        "object_type": e.objectType,
                        "object_id": e.objectID, "old": e.old ?? "", "new": e.new ?? "",
                    ] as [String: Any]
                },
                "object_type": type ?? "", "object_id": id ?? "",
                "types": ["workspace", "user", "api_token"].map { ["value": $0, "selected": $0 == type] },
            ], section: "audit")
    }
}
