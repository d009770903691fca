import Catalog
import Foundation

/// Where each item of a draft came from in the editor: `rules[i][j]` is the form row of the
/// draft's `paths[i].rules[j]` (blank rows are left out of the draft, so the two can differ).
public struct FlowEditorIndex: Equatable, Sendable {
    public var rules: [[Int]] = []
    public var landers: [[Int]] = []
    public var offers: [[Int]] = []

    /// A validation key of the draft (`paths[1].rules[0].op`) renamed to the form's rows.
    public func formKey(_ key: String) -> String {
        let head = "paths["
        guard key.hasPrefix(head), let close = key.firstIndex(of: "]"),
            let i = Int(key[key.index(key.startIndex, offsetBy: head.count)..<close]), i >= 0, i < rules.count
        else { return key }
        let rest = key[key.index(after: close)...]
        for (kind, rows) in [("rules", rules[i]), ("landers", landers[i]), ("offers", offers[i])] {
            let prefix = ".\(kind)["
            guard rest.hasPrefix(prefix) else { continue }
            let after = rest.dropFirst(prefix.count)
            guard let end = after.firstIndex(of: "]"), let j = Int(after[..<end]), j >= 0, j < rows.count else { return key }
            return "paths[\(i)]\(prefix)\(rows[j])]" + after[after.index(after: end)...]
        }
        return key
    }
}

extension FlowEditorForm {
    /// The draft the store validates and saves: blank rows dropped, a weight that is no whole
    /// number kept as 0 (so validation names it), a blank path name made `Path N`.
    public func draft() -> (FlowDraft, FlowEditorIndex) {
        var draft = FlowDraft()
        var index = FlowEditorIndex()
        draft.name = name
        draft.workspaceID = Int64(workspaceID)
        for (i, rows) in paths.enumerated() {
            let rules = rows.rules.indices.filter { !rows.rules[$0].isBlank }
            let landers = rows.landers.indices.filter { !rows.landers[$0].id.isEmpty }
            let offers = rows.offers.indices.filter { !rows.offers[$0].id.isEmpty }
            index.rules.append(rules)
            index.landers.append(landers)
            index.offers.append(offers)
            draft.paths.append(
                FlowPath(
                    name: rows.name.isEmpty ? "Path \(i + 1)" : rows.name,
                    rules: rules.map {
                        let row = rows.rules[$0]
                        return FlowRule(field: row.fieldName, op: row.op, values: FlowEditorForm.list(row.values))
                    },
                    landers: landers.map { FlowEditorForm.weighted(rows.landers[$0]) },
                    offers: offers.map { FlowEditorForm.weighted(rows.offers[$0]) }))
        }
        return (draft, index)
    }

    static func weighted(_ row: WeightRow) -> FlowPath.Weighted {
        FlowPath.Weighted(id: Int64(row.id) ?? 0, weight: row.weight.isEmpty ? 1 : Int(row.weight) ?? 0)
    }
}

/// A button of the flow editor other than Save: the form comes back with the change made and
/// nothing stored. Its value is `add_path`, `remove_path:I`, `move_up:I`, `move_down:I`,
/// `add_rule:I` (`add_lander`, `add_offer`), `remove_rule:I:J` (…) or `rule_up:I:J` (…).
public enum FlowEditorAction: Equatable, Sendable {
    public enum Kind: String, Sendable { case rule, lander, offer }

    case save
    case addPath
    case removePath(Int)
    case movePath(Int, up: Bool)
    case addRow(Kind, path: Int)
    case removeRow(Kind, path: Int, row: Int)
    case moveRowUp(Kind, path: Int, row: Int)

    /// nil for a value that is none of these (the page says so and changes nothing).
    public init?(_ value: String) {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let numbers = parts.dropFirst().compactMap { Int($0) }.filter { $0 >= 0 }
        guard numbers.count == parts.count - 1 else { return nil }
        let verb = parts[0]
        switch (verb, numbers.count) {
        case ("save", 0), ("", 0): self = .save
        case ("add_path", 0): self = .addPath
        case ("remove_path", 1): self = .removePath(numbers[0])
        case ("move_up", 1): self = .movePath(numbers[0], up: true)
        case ("move_down", 1): self = .movePath(numbers[0], up: false)
        default:
            let pieces = verb.split(separator: "_", maxSplits: 1).map(String.init)
            guard pieces.count == 2 else { return nil }
            switch (pieces[0], Kind(rawValue: pieces[1]), Kind(rawValue: pieces[0]), pieces[1], numbers.count) {
            case ("add", let kind?, _, _, 1): self = .addRow(kind, path: numbers[0])
            case ("remove", let kind?, _, _, 2): self = .removeRow(kind, path: numbers[0], row: numbers[1])
            case (_, _, let kind?, "up", 2): self = .moveRowUp(kind, path: numbers[0], row: numbers[1])
            default: return nil
            }
        }
    }
}

extension FlowEditorForm {
    /// Makes the change a button asks for; an index out of range changes nothing. A new path
    /// goes before the last one (the default, which stays last).
    public mutating func apply(_ action: FlowEditorAction) {
        switch action {
        case .save: break
        case .addPath:
            guard paths.count < FlowEditorForm.maxPaths else { return }
            paths.insert(FlowEditorForm.blankPath("Path \(paths.count + 1)"), at: max(paths.count - 1, 0))
        case .removePath(let i): if paths.indices.contains(i) { paths.remove(at: i) }
        case .movePath(let i, let up):
            let j = up ? i - 1 : i + 1
            if paths.indices.contains(i), paths.indices.contains(j) { paths.swapAt(i, j) }
        case .addRow(let kind, let i):
            guard paths.indices.contains(i) else { return }
            let most = FlowEditorForm.maxRows
            switch kind {
            case .rule: if paths[i].rules.count < most { paths[i].rules.append(RuleRow()) }
            case .lander: if paths[i].landers.count < most { paths[i].landers.append(WeightRow()) }
            case .offer: if paths[i].offers.count < most { paths[i].offers.append(WeightRow()) }
            }
        case .removeRow(let kind, let i, let row):
            guard paths.indices.contains(i) else { return }
            switch kind {
            case .rule: if paths[i].rules.indices.contains(row) { paths[i].rules.remove(at: row) }
            case .lander: if paths[i].landers.indices.contains(row) { paths[i].landers.remove(at: row) }
            case .offer: if paths[i].offers.indices.contains(row) { paths[i].offers.remove(at: row) }
            }
        case .moveRowUp(let kind, let i, let row):
            guard paths.indices.contains(i), row > 0 else { return }
            switch kind {
            case .rule: if row < paths[i].rules.count { paths[i].rules.swapAt(row, row - 1) }
            case .lander: if row < paths[i].landers.count { paths[i].landers.swapAt(row, row - 1) }
            case .offer: if row < paths[i].offers.count { paths[i].offers.swapAt(row, row - 1) }
            }
        }
    }
}
