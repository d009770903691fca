import Foundation
import Web

/// A line chart by day as inline SVG, drawn on the server (readable without script and in
/// print): a y axis with gridlines at round values and their labels, day labels on the x axis,
/// a dot per day with a `<title>` tooltip (day and value), and the highest and last values
/// written beside their dots.
public enum ReportChart {
    static let width = 640.0, height = 220.0
    static let left = 58.0, right = 14.0, top = 14.0, bottom = 30.0

    /// One point per day of `days` (0 where `values` has none); `label` names the metric and
    /// `places` its decimals (0 for counts).
    public static func svg(days: [String], values: [String: Decimal], label: String = "", places: Int = 2) -> String {
        let series = ReportPadding.series(days: days, values: values).map { NSDecimalNumber(decimal: $0).doubleValue }
        let ticks = niceTicks(low: min(series.min() ?? 0, 0), high: max(series.max() ?? 0, 0))
        let (low, high) = (ticks.first ?? 0, ticks.last ?? 1)
        let plotW = width - left - right, plotH = height - top - bottom
        let x = { (i: Int) in left + (days.count > 1 ? Double(i) * plotW / Double(days.count - 1) : plotW / 2) }
        let y = { (v: Double) in top + plotH - (v - low) / (high - low) * plotH }
        let text = { (v: Double) in Metrics.text(Decimal(v), places: places) }
        var parts: [String] = []
        for t in ticks {
            parts.append(
                #"<line class="grid" x1="\#(f(left))" x2="\#(f(width - right))" y1="\#(f(y(t)))" y2="\#(f(y(t)))"/>"#
                    + #"<text class="tick" x="\#(f(left - 6))" y="\#(f(y(t) + 4))" text-anchor="end">\#(text(t))</text>"#)
        }
        parts.append(#"<line class="axis" x1="\#(f(left))" x2="\#(f(left))" y1="\#(f(top))" y2="\#(f(top + plotH))"/>"#)
        for i in dayLabelIndexes(days.count) {
            parts.append(
                #"<text class="tick" x="\#(f(x(i)))" y="\#(f(height - 10))" text-anchor="middle">\#(htmlEscape(shortDay(days[i])))</text>"#)
        }
        let points = series.indices.map { "\(f(x($0))),\(f(y(series[$0])))" }.joined(separator: " ")
        parts.append(#"<polyline class="line" fill="none" stroke="currentColor" stroke-width="2" points="\#(points)"/>"#)
        for (i, v) in series.enumerated() {
            parts.append(
                #"<circle class="dot" cx="\#(f(x(i)))" cy="\#(f(y(v)))" r="3"><title>\#(htmlEscape(days[i])): \#(text(v))</title></circle>"#
            )
        }
        var labelled = Set<Int>()
        if let peak = series.indices.max(by: { series[$0] < series[$1] }), series[peak] != 0 { labelled.insert(peak) }
        if !series.isEmpty { labelled.insert(series.count - 1) }
        for i in labelled.sorted() {
            let anchor = i == series.count - 1 ? "end" : "middle"
            parts.append(
                #"<text class="value" x="\#(f(x(i)))" y="\#(f(y(series[i]) - 8))" text-anchor="\#(anchor)">\#(text(series[i]))</text>"#)
        }
        let name = htmlEscape(
            "\(label.isEmpty ? "Value" : label) by day, \(days.first ?? "") to \(days.last ?? ""): "
                + "highest \(text(series.max() ?? 0)), last \(text(series.last ?? 0))")
        return #"<svg class="chart-svg" viewBox="0 0 \#(Int(width)) \#(Int(height))" width="100%" role="img" aria-label="\#(name)">"#
            + "<title>\(name)</title>" + parts.joined() + "</svg>"
    }

    /// Four or five round values from `low` (≤ 0) to at least `high`: steps of 1, 2 or 5 × 10ⁿ.
    public static func niceTicks(low: Double, high: Double) -> [Double] {
        let span = max(high - low, 1e-9)
        let raw = span / 4
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        let start = floor(low / step) * step
        let end = max(ceil(high / step) * step, start + step)
        return stride(from: start, through: end + step / 2, by: step).map { ($0 / step).rounded() * step }
    }

    /// Up to seven evenly spread day labels, the first and the last always among them.
    public static func dayLabelIndexes(_ count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let every = max(1, Int((Double(count) / 7).rounded(.up)))
        var indexes = Array(stride(from: 0, to: count, by: every))
        if indexes.last != count - 1 {
            if let last = indexes.last, count - 1 - last < every / 2 + 1, indexes.count > 1 { indexes.removeLast() }
            indexes.append(count - 1)
        }
        return indexes
    }

    /// `2026-11-05` → `Nov 5`.
    static func shortDay(_ day: String) -> String {
        let parts = day.split(separator: "-")
        guard parts.count == 3, let m = Int(parts[1]), (1...12).contains(m), let d = Int(parts[2]) else { return day }
        return ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][m - 1] + " \(d)"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
