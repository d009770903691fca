/// A dimension's value in a report row: an id (sources, campaigns) or text; `null` where the
/// API shows the key with no value (a click with no flow, lander or offer).
public enum ReportValue: Sendable, Equatable, Encodable {
    case id(Int64)
    case text(String)
    case null

    public var id: Int64? {
        if case .id(let v) = self { v } else { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .id(let v): try c.encode(v)
        case .text(let v): try c.encode(v)
        case .null: try c.encodeNil()
        }
    }
}

/// One row of a report: its dimension values by key (a key is absent where the value is NULL;
/// parameter names are user-defined, hence a dictionary) and its sums.
public struct ReportRow: Sendable {
    public var dimensions: [String: ReportValue]
    public var sums: Metrics.Sums
    /// Values to sort and label by, in group order.
    public var labels: [String]

    public init(dimensions: [String: ReportValue], sums: Metrics.Sums, labels: [String]) {
        self.dimensions = dimensions
        self.sums = sums
        self.labels = labels
    }
}

public struct ReportResult: Sendable {
    public var request: ReportRequest
    public var rows: [ReportRow]
    public var totals: Metrics.Sums
    public var warnings: [String]

    public init(request: ReportRequest, rows: [ReportRow], totals: Metrics.Sums, warnings: [String]) {
        self.request = request
        self.rows = rows
        self.totals = totals
        self.warnings = warnings
    }
}
