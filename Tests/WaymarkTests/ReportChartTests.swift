import Foundation
import Reports
import Testing

/// The server-drawn chart: round gridline values that cover the data, a label per few days, a
/// tooltip per day, the highest and last values written, and text escaped.
@Suite struct ReportChartTests {
    let days = (1...14).map { String(format: "2026-11-%02d", $0) }

    @Test func theChartHasAxesLabelsTooltipsAndValues() throws {
        var values: [String: Decimal] = [:]
        for (i, d) in days.enumerated() { values[d] = Decimal(i * 37 % 101) }
        let svg = ReportChart.svg(days: days, values: values, label: "Clicks <all>", places: 0)
        #expect(svg.hasPrefix(#"<svg class="chart-svg""#))
        #expect(svg.contains(#"role="img""#))
        #expect(svg.contains("<title>Clicks &lt;all&gt; by day, 2026-11-01 to 2026-11-14: highest 94, last 77</title>"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 14, "a dot per day")
        #expect(svg.contains("<title>2026-11-04: 10</title>"))
        #expect(svg.contains(">Nov 1</text>") && svg.contains(">Nov 14</text>"))
        #expect(svg.components(separatedBy: #"class="grid""#).count - 1 >= 3, "gridlines")
        #expect(svg.contains(#"class="value""#) && svg.contains(">94</text>") && svg.contains(">77</text>"), "highest and last written")
        #expect(svg.contains(">0</text>") && svg.contains(">100</text>"), "gridline labels from 0 past the highest")
    }

    @Test func gridValuesAreRoundAndCoverTheData() {
        for (low, high) in [(0.0, 100.0), (0.0, 7.3), (-12.0, 40.0), (0.0, 0.0), (0.0, 123_456.0), (0.0, 0.042)] {
            let ticks = ReportChart.niceTicks(low: low, high: high)
            #expect(ticks.first! <= low && ticks.last! >= high, "\(low)…\(high): \(ticks)")
            #expect((2...7).contains(ticks.count), "\(ticks)")
            let step = ticks[1] - ticks[0]
            let mantissa = step / pow(10, floor(log10(step)))
            #expect([1.0, 2, 5, 10].contains { abs($0 - mantissa) < 1e-6 }, "\(step)")
        }
    }

    @Test func dayLabelsIncludeTheFirstAndTheLast() {
        for count in [1, 2, 7, 14, 30, 31, 90] {
            let indexes = ReportChart.dayLabelIndexes(count)
            #expect(indexes.first == 0 && indexes.last == count - 1)
            #expect(indexes.count <= 8)
            #expect(indexes == indexes.sorted() && Set(indexes).count == indexes.count)
        }
    }
}
