import Catalog
import Foundation
import Reports

/// The split-test view's tables: one flow path's landers (or offers) side by side with their
/// numbers from the report engine, and each one's probability of the best CR (SplitTest).
struct SplitTestPage {
    /// Landers are judged on their views, offers on their clicks.
    enum Kind {
        case lander, offer

        var key: String { self == .lander ? "lander" : "offer" }
        func trials(_ s: Metrics.Sums) -> Decimal { self == .lander ? s.landerViews : s.clicks }
    }

    struct Arm {
        var id: Int64
        var name: String
        /// Nil: no longer in the path (its clicks are from before a change of the flow).
        var weight: Int?
        var sums: Metrics.Sums
    }

    let kind: Kind
    /// The path's own landers or offers first, in its order, then any others its clicks had.
    let arms: [Arm]
    /// The path's clicks with none of them (sent to a lander and not yet through to an offer).
    let without: Metrics.Sums?
    let probabilities: [Double]

    /// `rows`: the report grouped by `kind` alone, filtered to the flow and path.
    init(kind: Kind, configured: [FlowPath.Weighted], rows: [ReportRow], names: [Int64: String], draws: Int = 20_000) {
        self.kind = kind
        var sums: [Int64: Metrics.Sums] = [:]
        var reported: [Int64: String] = [:]
        var others: [Int64] = []
        var without: Metrics.Sums?
        for row in rows {
            guard let id = row.dimensions[kind.key + "_id"]?.id else {
                without = (without ?? Metrics.Sums()) + row.sums
                continue
            }
            if sums[id] == nil && !configured.contains(where: { $0.id == id }) { others.append(id) }
            sums[id] = (sums[id] ?? Metrics.Sums()) + row.sums
            if case .text(let name)? = row.dimensions[kind.key + "_name"] { reported[id] = name }
        }
        func arm(_ id: Int64, weight: Int?) -> Arm {
            Arm(id: id, name: names[id] ?? reported[id] ?? "#\(id)", weight: weight, sums: sums[id] ?? Metrics.Sums())
        }
        arms = configured.map { arm($0.id, weight: $0.weight) } + others.map { arm($0, weight: nil) }
        self.without = without
        probabilities = SplitTest(
            arms: arms.map {
                SplitTest.Arm(
                    conversions: NSDecimalNumber(decimal: $0.sums.conversions).intValue,
                    trials: NSDecimalNumber(decimal: kind.trials($0.sums)).intValue)
            }, draws: draws
        ).probabilities()
    }

    /// CR % on the kind's trials.
    func cr(_ s: Metrics.Sums) -> String {
        Metrics.ratio(s.conversions, kind.trials(s), times: 100).map { Metrics.text($0, places: 2) } ?? ""
    }

    /// EPC on the kind's trials.
    func epc(_ s: Metrics.Sums) -> String {
        Metrics.ratio(s.revenue, kind.trials(s)).map { Metrics.text($0, places: 2) } ?? ""
    }

    static func percent(_ p: Double) -> String { String(format: "%.1f %%", p * 100) }

    /// A metric of the registry, as the report pages show it.
    static func shown(_ key: String, _ s: Metrics.Sums) -> String { Metrics.display(Metrics.byKey[key]!, s) }

    /// The table's rows: the registry's numbers, CR and EPC on the kind's trials, P(best).
    var rows: [[String: Any]] {
        let winner = SplitTest.winner(probabilities)
        return arms.enumerated().map { i, arm in
            var cells: [String] = []
            if kind == .lander {
                cells += ["lander_views", "lander_clicks", "lander_ctr"].map { Self.shown($0, arm.sums) }
            } else {
                cells.append(Self.shown("clicks", arm.sums))
            }
            cells += [Self.shown("conversions", arm.sums), cr(arm.sums), epc(arm.sums), Self.shown("revenue", arm.sums)]
            return [
                "name": arm.name, "weight": arm.weight.map(String.init) ?? "removed", "cells": cells.map { ["value": $0] },
                "p_best": probabilities.indices.contains(i) ? Self.percent(probabilities[i]) : "", "winner": winner == i,
            ]
        }
    }

    /// One line on where the test stands.
    var verdict: String {
        let noun = kind == .lander ? "lander" : "offer"
        guard arms.count > 1 else { return "Only one \(noun) in this path: nothing to compare." }
        guard let w = SplitTest.winner(probabilities) else {
            return "Not decided yet: no \(noun) has a \(Self.percent(SplitTest.decidedAt)) probability of the best CR."
        }
        return "Decided: \(arms[w].name) has the best CR with a probability of \(Self.percent(probabilities[w]))."
    }

    var context: [String: Any] {
        var out: [String: Any] = [
            "rows": rows, "verdict": verdict, "decided": SplitTest.winner(probabilities) != nil, "has_arms": !arms.isEmpty,
        ]
        if let without, without.clicks + without.botClicks > 0 {
            out["without"] = ["clicks": Self.shown("clicks", without), "conversions": Self.shown("conversions", without)]
        }
        return out
    }
}
