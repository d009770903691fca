import Accounts
import Conversions
import Foundation
import WaymarkCore
import Web

/// The conversion events page: what each event is called and counts as.
extension ConversionRoutes {
    func eventsPage(_ request: Request, _ actor: Actor) throws -> Response {
        try shell.render(
            request, actor: actor, template: "conversions/events", title: "Conversion events",
            context: [
                "events": try events.list(for: actor).map { $0.page(editable: actor.canEdit(workspace: $0.workspaceID)) },
                "workspaces": try workspaces.list(for: actor).filter { actor.canEdit(workspace: $0.id) }.map {
                    ["id": $0.id, "name": $0.name] as [String: Any]
                },
                "can_write": actor.canWrite,
            ], section: "conversions")
    }

    /// Creates an event (`key` new) or changes one (`id` given): name and what it counts as.
    func saveEvent(_ request: Request, _ actor: Actor) throws -> Response {
        let form = FormState(fields: try request.form())
        let name = form.value("name").trimmingCharacters(in: .whitespaces)
        let conversion = form.value("counts_as_conversion") == "on", revenue = form.value("counts_as_revenue") == "on"
        if let id = Int64(form.value("id")) {
            let event = try events.owner(of: id)
            try actor.requireEditable(workspace: event.workspaceID)
            guard !name.isEmpty, name.count <= 100 else {
                return AdminShell.redirect(to: "/events", flash: "Name is required (up to 100 characters).")
            }
            try events.update(
                id, workspaceID: event.workspaceID, name: name, countsAsConversion: conversion, countsAsRevenue: revenue, by: actor)
            return AdminShell.redirect(to: "/events", flash: "Event \(event.key) saved.")
        }
        let key = form.value("key").trimmingCharacters(in: .whitespaces).lowercased()
        let workspaceID = Int64(form.value("workspace_id"))
        try actor.requireEditable(workspace: workspaceID)
        guard Slug.isValid(key) else {
            return AdminShell.redirect(to: "/events", flash: "Key must be a slug (lower-case letters, digits, _ and -).")
        }
        let created = try events.create(
            key: key, workspaceID: workspaceID, name: name.isEmpty ? key : name, countsAsConversion: conversion,
            countsAsRevenue: revenue, by: actor)
        return AdminShell.redirect(to: "/events", flash: created ? "Event \(key) created." : "Event \(key) exists already.")
    }
}
