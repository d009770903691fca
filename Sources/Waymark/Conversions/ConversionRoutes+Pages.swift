import Accounts
import Catalog
import Conversions
import Deliveries
import Foundation
import HTTPClient
import Tracking
import WaymarkCore
import Web

/// The conversions pages: the list, unattributed postbacks (attach to a click), a click's
/// journey, and the postback tester.
extension ConversionRoutes {
    func listPage(_ request: Request, _ actor: Actor) throws -> Response {
        let filter = try ConversionFilter(request, defaultDays: 7)
        let rows = try conversions.list(filter: filter, for: actor, after: nil, limit: 500)
        let campaignRows = try campaigns.list(for: actor)
        return try shell.render(
            request, actor: actor, template: "conversions/list", title: "Conversions",
            context: [
                "conversions": rows.map(\.page),
                "count": rows.count, "capped": rows.count == 500,
                "from": filter.from, "to": filter.to,
                "campaigns": campaignRows.map { ["id": $0.id, "name": $0.name, "selected": $0.id == filter.campaignID] as [String: Any] },
                "sources": try sources.list(for: actor).map {
                    ["id": $0.id, "name": $0.name, "selected": $0.id == filter.sourceID] as [String: Any]
                },
                "statuses": PostbackInput.Status.allCases.map { ["value": $0.rawValue, "selected": $0.rawValue == filter.status] },
                "events": try events.keys(for: actor).map { ["value": $0, "selected": $0 == filter.event] as [String: Any] },
            ], section: "conversions")
    }

    func unattributedPage(_ request: Request, _ actor: Actor) throws -> Response {
        // An unknown click names no workspace, so only those who see every workspace see these.
        try actor.requireAdmin()
        return try shell.render(
            request, actor: actor, template: "conversions/unattributed", title: "Unattributed postbacks",
            context: ["postbacks": try postbacks.unattributed().map(\.unattributedPage), "can_write": actor.canWrite],
            section: "conversions")
    }

    func attach(_ request: Request, _ actor: Actor) throws -> Response {
        let form = FormState(fields: try request.form())
        let clickID = form.value("click_id").trimmingCharacters(in: .whitespaces)
        do {
            let result = try recorder.attach(postbackID: try request.pathID(), clickID: clickID, by: actor)
            return AdminShell.redirect(
                to: "/clicks/\(URLEncoding.encode(clickID))",
                flash: "Postback attached: conversion \(result.conversionID ?? 0) \(result.outcome.rawValue).")
        } catch let error as HTTPError where error.status == 422 {
            return AdminShell.redirect(
                to: "/conversions/unattributed", flash: "Not attached: click id \(error.fields["click_id"] ?? error.message).")
        }
    }

    func journeyPage(_ request: Request, _ actor: Actor) throws -> Response {
        let click = try clicks.get(request.parameters["click_id"] ?? "", for: actor)
        return try shell.render(
            request, actor: actor, template: "conversions/journey", title: "Click \(click.id)",
            context: [
                "click": click.page,
                "parameters": click.parameters.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] },
                "conversions": try conversions.forClick(click.id).map(\.page),
                "postbacks": try postbacks.forClick(click.id).map(\.journeyPage),
                "deliveries": try deliveries.forClick(click.id).map(\.page),
                "can_retry": actor.canWrite,
            ], section: "conversions")
    }

    /// Makes a test click on the campaign, sends a postback for it through the real endpoint
    /// (nginx included), and shows the click's journey with the answer.
    func postbackTest(_ request: Request, _ actor: Actor) throws -> Response {
        let campaign = try campaigns.get(try request.pathID(), for: actor)
        try actor.requireEditable(workspace: campaign.workspaceID)
        let form = FormState(fields: try request.form())
        guard let cached = cache.campaign(key: campaign.key) else {
            throw HTTPError.notFound("campaign \(campaign.key) is not loaded")
        }
        let click = clickRecorder.click(
            for: cached,
            visit: Visit(parameters: [], ip: request.remoteAddress, userAgent: "Waymark postback tester", referrer: "", country: ""))
        guard writer.record(click) else { throw HTTPError.unavailable("the test click could not be stored") }
        var pairs: [(String, String)] = [("clickid", click.id)]
        for name in ["payout", "currency", "status", "event", "txid"] {
            let v = form.value(name).trimmingCharacters(in: .whitespaces)
            if !v.isEmpty { pairs.append((name, v)) }
        }
        if let workspaceID = campaign.workspaceID, let secret = try workspaces.postbackSecret(workspaceID) {
            pairs.append(("secret", secret))
        }
        let url = postbackOrigin + "/postback?" + URLEncoding.formString(pairs)
        let answer: String
        do {
            let response = try HTTPClient.send(HTTPRequest(url: url, timeout: 10, followRedirects: false))
            answer = "HTTP \(response.status) \(String(response.text.prefix(300)))"
        } catch {
            answer = "the endpoint did not answer: \(error)"
        }
        return AdminShell.redirect(to: "/clicks/\(click.id)", flash: "Test postback sent for a new test click. \(answer)")
    }
}
