import Catalog
import Foundation

/// The flow editor's form as the user left it, blank rows included, so a re-render keeps every
/// value and every field keeps its place. Field names (indexes from 0):
/// `name`, `workspace_id`, `paths[I][name]`,
/// `paths[I][rules][J][field]` (a rule field, or `param:` with the name in `…[param]`), `…[op]`,
/// `…[values]` (a comma or newline list), `paths[I][landers][K][id]`, `…[weight]`, and the same
/// for `offers`. Indexes only order the rows; gaps close up.
public struct FlowEditorForm: Equatable, Sendable {
    public struct RuleRow: Equatable, Sendable {
        public var field = ""
        public var param = ""
        public var op = "in"
        public var values = ""

        public var isBlank: Bool { field.isEmpty && param.isEmpty && FlowEditorForm.list(values).isEmpty }

        /// `param:` plus the name, or the chosen field.
        public var fieldName: String { field == FlowRule.parameterPrefix ? field + param.trimmingCharacters(in: .whitespaces) : field }
    }

    public struct WeightRow: Equatable, Sendable {
        public var id = ""
        public var weight = ""
    }

    public struct PathRows: Equatable, Sendable {
        public var name = ""
        public var rules: [RuleRow] = []
        public var landers: [WeightRow] = []
        public var offers: [WeightRow] = []
    }

    public var name = ""
    public var workspaceID = ""
    public var paths: [PathRows] = []

    /// A new path: room for a rule, two landers and two offers.
    static func blankPath(_ name: String) -> PathRows {
        PathRows(name: name, rules: [RuleRow()], landers: [WeightRow(), WeightRow()], offers: [WeightRow(), WeightRow()])
    }

    /// A new flow: one default path (no room for rules: the default has none).
    public static func new(workspaceID: Int64?) -> FlowEditorForm {
        var path = blankPath("Default")
        path.rules = []
        return FlowEditorForm(name: "", workspaceID: workspaceID.map(String.init) ?? "", paths: [path])
    }

    /// A stored flow, with one empty row after each list to fill in (no rule row on the default path).
    public init(_ flow: Flow) {
        name = flow.name
        workspaceID = flow.workspaceID.map(String.init) ?? ""
        paths = flow.paths.enumerated().map { i, path in
            PathRows(
                name: path.name,
                rules: path.rules.map { rule in
                    rule.field.hasPrefix(FlowRule.parameterPrefix)
                        ? RuleRow(
                            field: FlowRule.parameterPrefix, param: String(rule.field.dropFirst(FlowRule.parameterPrefix.count)),
                            op: rule.op, values: rule.values.joined(separator: ", "))
                        : RuleRow(field: rule.field, op: rule.op, values: rule.values.joined(separator: ", "))
                } + (i == flow.paths.count - 1 ? [] : [RuleRow()]),
                landers: path.landers.map { WeightRow(id: String($0.id), weight: String($0.weight)) } + [WeightRow()],
                offers: path.offers.map { WeightRow(id: String($0.id), weight: String($0.weight)) } + [WeightRow()])
        }
    }

    init(name: String, workspaceID: String, paths: [PathRows]) {
        self.name = name
        self.workspaceID = workspaceID
        self.paths = paths
    }

    /// Reads the posted fields (see the type's comment); unknown names are ignored.
    public init(fields: [(String, String)]) {
        var byPath: [Int: (name: String, rules: [Int: RuleRow], landers: [Int: WeightRow], offers: [Int: WeightRow])] = [:]
        var seen = Set<String>()
        for (key, value) in fields where seen.insert(key).inserted {
            if key == "name" { name = value.trimmingCharacters(in: .whitespacesAndNewlines) }
            if key == "workspace_id" { workspaceID = value.trimmingCharacters(in: .whitespaces) }
            let parts = FlowEditorForm.parts(key)
            guard parts.count >= 3, parts[0] == "paths", let i = Int(parts[1]), i >= 0 else { continue }
            var path = byPath[i] ?? ("", [:], [:], [:])
            switch (parts.count, parts[2]) {
            case (3, "name"): path.name = value.trimmingCharacters(in: .whitespaces)
            case (5, "rules"):
                guard let j = Int(parts[3]) else { continue }
                var row = path.rules[j] ?? RuleRow(op: "")
                switch parts[4] {
                case "field": row.field = value
                case "param": row.param = value.trimmingCharacters(in: .whitespaces)
                case "op": row.op = value
                case "values": row.values = value
                default: break
                }
                path.rules[j] = row
            case (5, "landers"), (5, "offers"):
                guard let k = Int(parts[3]) else { continue }
                let kind = parts[2]
                var row = (kind == "landers" ? path.landers[k] : path.offers[k]) ?? WeightRow()
                if parts[4] == "id" { row.id = value.trimmingCharacters(in: .whitespaces) }
                if parts[4] == "weight" { row.weight = value.trimmingCharacters(in: .whitespaces) }
                if kind == "landers" { path.landers[k] = row } else { path.offers[k] = row }
            default: continue
            }
            byPath[i] = path
        }
        // Past the limits validation names, rows are dropped: a page of them is no use to anyone.
        paths = byPath.sorted { $0.key < $1.key }.prefix(FlowEditorForm.maxPaths).map { _, p in
            PathRows(
                name: p.name, rules: Array(p.rules.sorted { $0.key < $1.key }.map(\.value).prefix(FlowEditorForm.maxRows)),
                landers: Array(p.landers.sorted { $0.key < $1.key }.map(\.value).prefix(FlowEditorForm.maxRows)),
                offers: Array(p.offers.sorted { $0.key < $1.key }.map(\.value).prefix(FlowEditorForm.maxRows)))
        }
    }

    /// One more than validation allows, so the form can still show what is too many.
    static let maxPaths = FlowValidation.maxPaths + 1
    static let maxRows = FlowValidation.maxWeighted + 1

    /// `paths[0][rules][1][field]` → `["paths", "0", "rules", "1", "field"]`; [] when it is not that shape.
    static func parts(_ key: String) -> [String] {
        guard let open = key.firstIndex(of: "["), key.hasSuffix("]") else { return [] }
        let head = String(key[..<open])
        let inner = key[key.index(after: open)..<key.index(before: key.endIndex)]
        let rest = inner.components(separatedBy: "][")
        guard rest.allSatisfy({ !$0.isEmpty && !$0.contains("[") && !$0.contains("]") }) else { return [] }
        return [head] + rest
    }

    /// A comma or newline list: trimmed, empty items dropped.
    static func list(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == "," || $0 == "\n" || $0 == "\r" }).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
