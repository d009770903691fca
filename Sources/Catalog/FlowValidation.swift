import Addresses
import Foundation

/// The checks of a flow (SPEC section 9) that need no database: given the landers and offers
/// the actor may use, every bad field of a flow named like `paths[1].rules[0].op`.
public struct FlowValidation: Sendable {
    public static let maxPaths = 50
    public static let maxRules = 20
    public static let maxWeighted = 50
    public static let maxValues = 1000
    public static let maxWeight = 1_000_000

    /// Live landers and offers the actor sees, Public or in the flow's workspace.
    public var usableLanders: Set<Int64>
    public var usableOffers: Set<Int64>

    public init(usableLanders: Set<Int64>, usableOffers: Set<Int64>) {
        self.usableLanders = usableLanders
        self.usableOffers = usableOffers
    }

    public func errors(name: String, paths: [FlowPath]) -> [String: String] {
        var errors: [String: String] = [:]
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty {
            errors["name"] = "is required"
        } else if trimmed.count > 200 {
            errors["name"] = "is longer than 200 characters"
        }
        if paths.isEmpty {
            errors["paths"] = "needs at least one path (the last one, with no rules, takes every other click)"
        } else if paths.count > FlowValidation.maxPaths {
            errors["paths"] = "at most \(FlowValidation.maxPaths) paths"
        }
        for (i, path) in paths.enumerated() {
            errors.merge(pathErrors(path, key: "paths[\(i)]", isLast: i == paths.count - 1)) { a, _ in a }
        }
        return errors
    }

    func pathErrors(_ path: FlowPath, key: String, isLast: Bool) -> [String: String] {
        var errors: [String: String] = [:]
        if path.name.count > 200 { errors[key + ".name"] = "is longer than 200 characters" }
        if isLast && !path.rules.isEmpty {
            errors[key + ".rules"] = "the last path is the default: it takes every click the others did not, so it has no rules"
        } else if path.rules.count > FlowValidation.maxRules {
            errors[key + ".rules"] = "at most \(FlowValidation.maxRules) rules"
        }
        for (j, rule) in path.rules.enumerated() {
            errors.merge(FlowValidation.ruleErrors(rule, key: "\(key).rules[\(j)]")) { a, _ in a }
        }
        if path.offers.isEmpty { errors[key + ".offers"] = "needs at least one offer" }
        errors.merge(weightedErrors(path.landers, key: key + ".landers", idKey: "lander_id", usable: usableLanders)) { a, _ in a }
        errors.merge(weightedErrors(path.offers, key: key + ".offers", idKey: "offer_id", usable: usableOffers)) { a, _ in a }
        return errors
    }

    func weightedErrors(_ items: [FlowPath.Weighted], key: String, idKey: String, usable: Set<Int64>) -> [String: String] {
        var errors: [String: String] = [:]
        if items.count > FlowValidation.maxWeighted { errors[key] = "at most \(FlowValidation.maxWeighted)" }
        var seen = Set<Int64>()
        let kind = idKey == "lander_id" ? "lander" : "offer"
        for (k, item) in items.enumerated() {
            let at = "\(key)[\(k)]"
            if !usable.contains(item.id) {
                errors["\(at).\(idKey)"] = "is not a \(kind) you can use here (it must exist and be Public or in the flow's workspace)"
            } else if !seen.insert(item.id).inserted {
                errors["\(at).\(idKey)"] = "is listed twice in this path"
            }
            if item.weight < 1 || item.weight > FlowValidation.maxWeight {
                errors["\(at).weight"] = "must be a whole number from 1 to \(FlowValidation.maxWeight)"
            }
        }
        return errors
    }

    /// A rule's field, op and values.
    public static func ruleErrors(_ rule: FlowRule, key: String) -> [String: String] {
        var errors: [String: String] = [:]
        let field = rule.field
        let isParameter = field.hasPrefix(FlowRule.parameterPrefix)
        if isParameter {
            let name = field.dropFirst(FlowRule.parameterPrefix.count)
            if name.isEmpty || name.count > 64 || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) {
                errors[key + ".field"] = "param: needs a parameter name (letters, digits, _ - .), like param:zone"
            }
        } else if !FlowRule.fields.contains(field) {
            errors[key + ".field"] = "must be one of " + FlowRule.fields.sorted().joined(separator: ", ") + " or param:NAME"
            return errors
        }
        if !FlowRule.allows(op: rule.op, for: field) {
            let textual = field == "referrer_domain" || isParameter
            errors[key + ".op"] = textual ? "must be in, not_in, contains or not_contains" : "must be in or not_in"
        }
        if rule.values.isEmpty {
            errors[key + ".values"] = "needs at least one value"
        } else if rule.values.count > maxValues {
            errors[key + ".values"] = "at most \(maxValues) values"
        } else {
            for (i, value) in rule.values.enumerated() {
                if let problem = valueProblem(value, field: field) { errors["\(key).values[\(i)]"] = problem }
            }
        }
        return errors
    }

    /// Why `value` cannot be a value of `field`, or nil when it can (matching ignores case).
    public static func valueProblem(_ value: String, field: String) -> String? {
        let v = value.trimmingCharacters(in: .whitespaces).lowercased()
        if v.isEmpty { return "is empty" }
        if v.count > 200 { return "is longer than 200 characters" }
        switch field {
        case "device": return FlowRule.devices.contains(v) ? nil : "must be " + FlowRule.devices.sorted().joined(separator: ", ")
        case "weekday": return FlowRule.weekdays.contains(v) ? nil : "must be mon, tue, wed, thu, fri, sat or sun"
        case "hour":
            return v.allSatisfy({ $0.isASCII && $0.isNumber }) && (0...23).contains(Int(v) ?? -1) ? nil : "must be an hour from 0 to 23"
        case "ip": return isAddressOrCIDR(v) ? nil : "must be an IPv4 or IPv6 address or CIDR (203.0.113.0/24, 2001:db8::/32)"
        case "country":
            return v.count == 2 && v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) ? nil : "must be a two-letter country code"
        case "language":
            return v.count <= 35 && v.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-") })
                ? nil : "must be a language code like de or pt-br"
        default: return nil
        }
    }

    /// `203.0.113.9`, `203.0.113.0/24`, `2001:db8::1`, `2001:db8::/32`.
    public static func isAddressOrCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let (_, isV4) = IPRanges.parse(String(parts[0])) else { return false }
        guard parts.count == 2 else { return true }
        let bits = parts[1]
        guard !bits.isEmpty, bits.count <= 3, bits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(bits) else { return false }
        return n <= (isV4 ? 32 : 128)
    }
}
