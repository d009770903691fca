import Foundation

/// A flow: where a campaign's clicks go (docs/flows.md). Paths are tried in order; the first
/// whose rules all match takes the click; the last path has no rules (the default).
public struct Flow: Sendable, Equatable {
    public var id: Int64
    public var workspaceID: Int64?
    public var name: String
    public var paths: [FlowPath]
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int64, workspaceID: Int64?, name: String, paths: [FlowPath], createdAt: Date, updatedAt: Date) {
        self.id = id
        self.workspaceID = workspaceID
        self.name = name
        self.paths = paths
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One path of a flow: its rules, and the landers and offers it draws by weight. No landers:
/// the click goes straight to an offer (direct linking).
public struct FlowPath: Codable, Sendable, Equatable {
    public var name: String
    public var rules: [FlowRule]
    public var landers: [Weighted]
    public var offers: [Weighted]

    public init(name: String, rules: [FlowRule], landers: [Weighted], offers: [Weighted]) {
        self.name = name
        self.rules = rules
        self.landers = landers
        self.offers = offers
    }

    /// A lander or an offer with its weight (a positive integer). Stored and answered as
    /// `{lander_id, weight}` / `{offer_id, weight}` (`FlowJSON` writes the key).
    public struct Weighted: Codable, Sendable, Equatable {
        public var id: Int64
        public var weight: Int

        public init(id: Int64, weight: Int) {
            self.id = id
            self.weight = weight
        }
    }
}

/// `{field, op, values}`: e.g. `country in [DE, AT]`, `param:zone not_in [12]`.
public struct FlowRule: Codable, Sendable, Equatable {
    public var field: String
    public var op: String
    public var values: [String]

    public init(field: String, op: String, values: [String]) {
        self.field = field
        self.op = op
        self.values = values
    }

    /// The fields a rule may test; `param:NAME` besides these.
    public static let fields: Set<String> = [
        "country", "device", "os", "browser", "language", "ip", "referrer_domain", "weekday", "hour",
    ]
    public static let parameterPrefix = "param:"
    /// `in` and `not_in` for every field; `contains` / `not_contains` for text fields only.
    public static let setOps: Set<String> = ["in", "not_in"]
    public static let textOps: Set<String> = ["contains", "not_contains"]
    public static let devices: Set<String> = ["desktop", "mobile", "tablet", "bot"]
    public static let weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    /// Whether `op` applies to `field` (`contains` only for `referrer_domain` and `param:NAME`).
    public static func allows(op: String, for field: String) -> Bool {
        if setOps.contains(op) { return true }
        return textOps.contains(op) && (field == "referrer_domain" || field.hasPrefix(parameterPrefix))
    }
}
