import Foundation

/// A checked row, ready to store.
public struct SpendEntry: Sendable {
    public var row: Int
    public var day: String
    public var sourceID: Int64
    public var sourceName: String
    public var workspaceID: Int64?
    public var campaignID: Int64?
    public var dimensions: [String: String]
    public var amount: String
    public var currency: String
    /// The dimensions as JSON, made once (it is part of the key and of the stored row).
    public var dimensionsJSON: String

    public init(
        row: Int, day: String, sourceID: Int64, sourceName: String, workspaceID: Int64?, campaignID: Int64?,
        dimensions: [String: String], amount: String, currency: String
    ) {
        self.row = row
        self.day = day
        self.sourceID = sourceID
        self.sourceName = sourceName
        self.workspaceID = workspaceID
        self.campaignID = campaignID
        self.dimensions = dimensions
        self.amount = amount
        self.currency = currency
        dimensionsJSON = SpendEntry.json(dimensions)
    }

    /// Sorted keys; by hand, since this runs for every imported row.
    public static func json(_ dimensions: [String: String]) -> String {
        guard !dimensions.isEmpty else { return "{}" }
        return "{" + dimensions.sorted { $0.key < $1.key }.map { quote($0.key) + ":" + quote($0.value) }.joined(separator: ",") + "}"
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// A problem with one row: `{"row":…,"field":…,"message":…}` in answers and run records.
public struct SpendRowError: Sendable, Codable, Equatable {
    public var row: Int
    public var field: String
    public var message: String

    public init(row: Int, field: String, message: String) {
        self.row = row
        self.field = field
        self.message = message
    }
}
