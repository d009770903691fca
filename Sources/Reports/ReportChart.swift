import Foundation

/// A small line chart as inline SVG (no script), one per metric on the dashboard.
public enum ReportChart {
    /// One point per day of `days` (0 where `values` has none).
    public static func svg(days: [String], values: [String: Decimal]) -> String {
        let width = 320.0, height = 90.0, pad = 4.0
        let series = ReportPadding.series(days: days, values: values).map { NSDecimalNumber(decimal: $0).doubleValue }
        let maxValue = max(series.max() ?? 0, 1e-9)
        let minValue = min(series.min() ?? 0, 0)
        let step = days.count > 1 ? (width - 2 * pad) / Double(days.count - 1) : 0
        let points = series.enumerated().map { i, v in
            String(format: "%.1f,%.1f", pad + Double(i) * step, height - pad - (v - minValue) / (maxValue - minValue) * (height - 2 * pad))
        }.joined(separator: " ")
        let label = "\(days.first ?? "") – \(days.last ?? ""), max \(Metrics.text(Decimal(maxValue), places: 2))"
        return """
            <svg viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" height="\(Int(height))" role="img" aria-label="\(label)" \
            preserveAspectRatio="none"><polyline fill="none" stroke="currentColor" stroke-width="2" points="\(points)"/></svg>
            """
    }
}
