import Accounts
import Catalog
import Foundation
import WaymarkCore
import Web

extension FlowPageRoutes {
    /// The editor: the form as `form` holds it, each error beside its field and all of them at the top.
    func editor(
        _ request: Request, _ actor: Actor, flow: Flow?, form: FlowEditorForm, errors: [String: String], status: Int = 200
    ) throws -> Response {
        let workspace = Int64(form.workspaceID)
        let usable = { (w: Int64?) in w == nil || w == workspace }
        let view = FlowEditorView(
            form: form, errors: errors,
            landers: try landers.list(for: actor, workspace: workspace).filter { usable($0.workspaceID) }.map {
                (
                    $0.id,
                    $0.name + " (\($0.offersCount) offer link\($0.offersCount == 1 ? "" : "s"))" + ($0.status == "active" ? "" : ", paused")
                )
            },
            offers: try offers.list(for: actor, workspace: workspace).filter { usable($0.workspaceID) }.map {
                ($0.id, "\($0.name) (\($0.payout) \($0.currency)" + ($0.status == "active" ? ")" : ", paused)"))
            })
        var context: [String: Any] = [
            "values": ["name": form.name], "errors": errors.filter { !$0.key.hasPrefix("paths[") },
            "has_errors": !errors.isEmpty,
            "error_list": errors.sorted { $0.key < $1.key }.map { ["key": $0.key, "message": $0.value] },
            "workspaces": try support.workspaceOptions(actor, selected: workspace),
            "paths": view.paths(),
            "action": flow.map { "/flows/\($0.id)" } ?? "/flows",
            "can_edit": flow.map { actor.canEdit(workspace: $0.workspaceID) } ?? actor.canWrite,
        ]
        if let flow {
            context["flow"] = [
                "id": flow.id,
                "split_tests": flow.paths.enumerated().map { ["index": $0.offset, "name": $0.element.name] },
                "campaigns": try campaigns.list(for: actor).filter { $0.flowID == flow.id }.map { ["id": $0.id, "name": $0.name] },
            ]
        }
        return try shell.render(
            request, actor: actor, template: "flows/form", title: flow.map { "Flow \($0.name)" } ?? "New flow", context: context,
            status: status, section: "flows")
    }
}

/// The editor's paths as the template reads them: every row with its field names, choices and errors.
struct FlowEditorView {
    let form: FlowEditorForm
    let errors: [String: String]
    let landers: [(id: Int64, label: String)]
    let offers: [(id: Int64, label: String)]

    static let fieldChoices: [(String, String)] =
        FlowRule.fields.sorted().map { ($0, $0) } + [(FlowRule.parameterPrefix, "param:NAME (a tracking parameter)")]
    static let opChoices = ["in", "not_in", "contains", "not_contains"]

    func paths() -> [[String: Any]] {
        form.paths.enumerated().map { i, path in
            let key = "paths[\(i)]"
            var context: [String: Any] = [
                "index": i, "number": i + 1, "name": path.name, "prefix": key, "is_first": i == 0,
                "is_last": i == form.paths.count - 1, "only": form.paths.count == 1,
                "rules": path.rules.enumerated().map { rule($0.element, path: i, row: $0.offset) },
                "landers": path.landers.enumerated().map { weighted($0.element, kind: "lander", path: i, row: $0.offset) },
                "offers": path.offers.enumerated().map { weighted($0.element, kind: "offer", path: i, row: $0.offset) },
            ]
            let messages = [("", "Path"), (".name", "Name"), (".rules", "Rules"), (".landers", "Landers"), (".offers", "Offers")]
                .compactMap { suffix, label in errors[key + suffix].map { "\(label) \($0)" } }
            if !messages.isEmpty { context["path_errors"] = messages }
            return context
        }
    }

    func rule(_ row: FlowEditorForm.RuleRow, path: Int, row j: Int) -> [String: Any] {
        let key = "paths[\(path)].rules[\(j)]"
        var context: [String: Any] = [
            "prefix": "paths[\(path)][rules][\(j)]", "path_index": path, "row": j, "param": row.param, "values": row.values,
            "fields": FlowEditorView.fieldChoices.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == row.field] },
            "ops": FlowEditorView.opChoices.map { ["value": $0, "selected": $0 == row.op] },
            "can_move_up": j > 0,
        ]
        if let e = errors[key + ".field"] { context["field_error"] = e }
        if let e = errors[key + ".op"] { context["op_error"] = e }
        let values = FlowEditorForm.list(row.values)
        let valueErrors =
            [errors[key + ".values"]].compactMap { $0 }
            + values.indices.compactMap { n in errors["\(key).values[\(n)]"].map { "“\(values[n])” \($0)" } }
        if !valueErrors.isEmpty { context["values_error"] = valueErrors.joined(separator: "; ") }
        return context
    }

    func weighted(_ row: FlowEditorForm.WeightRow, kind: String, path: Int, row k: Int) -> [String: Any] {
        let key = "paths[\(path)].\(kind)s[\(k)]"
        var choices = (kind == "lander" ? landers : offers).map {
            ["value": String($0.id), "label": $0.label, "selected": String($0.id) == row.id] as [String: Any]
        }
        // A chosen one that is no longer listed (another workspace, deleted) stays chosen, so it is kept and named.
        if !row.id.isEmpty, !choices.contains(where: { $0["selected"] as? Bool == true }) {
            choices.append(["value": row.id, "label": "#\(row.id) (not available here)", "selected": true])
        }
        var context: [String: Any] = [
            "prefix": "paths[\(path)][\(kind)s][\(k)]", "path_index": path, "row": k, "kind": kind, "weight": row.weight,
            "choices": choices, "can_move_up": k > 0,
        ]
        if let e = errors[key + ".\(kind)_id"] { context["id_error"] = e }
        if let e = errors[key + ".weight"] { context["weight_error"] = e }
        return context
    }
}
