/// The `GET /api/v1/reports` answer (docs/reports.md): a row per group with its dimensions and
/// every metric, the totals, and warnings only when there are some.
public struct ReportAnswer: Encodable, Sendable {
    public var currency: String
    public var tz: String
    public var rows: [Row]
    public var totals: MetricValues
    /// Nil (left out) when there is nothing to warn about.
    public var warnings: [String]?

    public init(_ result: ReportResult) {
        currency = result.request.currency
        tz = result.request.timeZone
        rows = result.rows.map(Row.init)
        totals = MetricValues(result.totals)
        warnings = result.warnings.isEmpty ? nil : result.warnings
    }

    /// A row: its dimensions and metrics side by side in one object; a dimension wins over a
    /// metric of the same key (a parameter named `clicks`).
    public struct Row: Encodable, Sendable {
        public var dimensions: [String: ReportValue]
        public var metrics: MetricValues

        public init(_ row: ReportRow) {
            dimensions = row.dimensions
            metrics = MetricValues(row.sums)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: MetricValues.Key.self)
            for (key, value) in dimensions { try c.encode(value, forKey: MetricValues.Key(key)) }
            for (key, value) in metrics.values where dimensions[key] == nil { try c.encode(value, forKey: MetricValues.Key(key)) }
        }
    }
}

/// Every metric of the registry for one set of sums, keyed by the metric's key.
public struct MetricValues: Encodable, Sendable {
    public var values: [(String, Metrics.Value)]

    public init(_ sums: Metrics.Sums) {
        values = Metrics.all.map { ($0.key, Metrics.value($0, sums)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        for (key, value) in values { try c.encode(value, forKey: Key(key)) }
    }

    /// Keys chosen at run time (metric keys and parameter names are snake_case already).
    public struct Key: CodingKey {
        public var stringValue: String
        public var intValue: Int? { nil }
        public init(_ string: String) { stringValue = string }
        public init?(stringValue: String) { self.stringValue = stringValue }
        public init?(intValue: Int) { nil }
    }
}
