import Addresses
import Catalog
import Foundation

/// One `FlowRule` prepared for matching: values lower-cased into sets, addresses into
/// `IPRanges`, weekdays and hours into bitmasks, substrings into search tables. Built once per
/// flow (the campaign cache), so a click converts nothing.
enum FlowRuleMatcher: Sendable {
    case oneOf(FlowVisitField, Set<String>, negated: Bool)
    case substring(FlowVisitField, [FlowNeedle], negated: Bool)
    case address(IPRanges, negated: Bool)
    /// Bit 0 = Monday … bit 6 = Sunday.
    case weekday(UInt8, negated: Bool)
    /// Bit n = hour n.
    case hour(UInt32, negated: Bool)
    /// An unknown field or op (validation refuses them; a stale row must not crash the cache):
    /// the path never matches.
    case never

    init(_ rule: FlowRule) {
        let field = rule.field.lowercased()
        let op = rule.op.lowercased()
        guard FlowRule.allows(op: op, for: field) else {
            self = .never
            return
        }
        let negated = op.hasPrefix("not_")
        let values = rule.values.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        switch field {
        case "ip": self = .address(IPRanges(values.joined(separator: ",")), negated: negated)
        case "weekday":
            let bits = values.compactMap { FlowRule.weekdays.firstIndex(of: String($0.prefix(3))) }
            self = .weekday(bits.reduce(0) { $0 | UInt8(1) << UInt8($1) }, negated: negated)
        case "hour":
            let bits = values.compactMap { Int($0) }.filter { (0...23).contains($0) }
            self = .hour(bits.reduce(0) { $0 | UInt32(1) << UInt32($1) }, negated: negated)
        default:
            guard let text = FlowRuleMatcher.textField(field) else {
                self = .never
                return
            }
            let normalized = values.map { FlowRuleMatcher.normalize($0, for: text) }
            if FlowRule.textOps.contains(op) {
                self = .substring(text, normalized.map(FlowNeedle.init), negated: negated)
            } else {
                self = .oneOf(text, Set(normalized), negated: negated)
            }
        }
    }

    static func textField(_ field: String) -> FlowVisitField? {
        switch field {
        case "country": .country
        case "device": .device
        case "os": .os
        case "browser": .browser
        case "language": .language
        case "referrer_domain": .referrerDomain
        default:
            field.hasPrefix(FlowRule.parameterPrefix)
                ? .parameter(String(field.dropFirst(FlowRule.parameterPrefix.count))) : nil
        }
    }

    /// Rule values take the visit's normal form: `de-AT` → `de`, `www.Example.com` → `example.com`.
    static func normalize(_ value: String, for field: FlowVisitField) -> String {
        switch field {
        case .language: FlowVisit.primaryLanguage(value)
        case .referrerDomain: FlowVisit.normalizedDomain(value)
        default: value
        }
    }

    /// Whether the visit passes; a missing value fails the positive ops and passes the negated.
    func matches(_ visit: FlowVisit) -> Bool {
        switch self {
        case .oneOf(let field, let values, let negated):
            guard let value = visit.value(of: field) else { return negated }
            return values.contains(value) != negated
        case .substring(let field, let needles, let negated):
            guard let value = visit.value(of: field) else { return negated }
            return needles.contains { $0.occurs(in: value) } != negated
        case .address(let ranges, let negated):
            guard let bytes = visit.ipBytes else { return negated }
            return ranges.contains(bytes: bytes) != negated
        case .weekday(let mask, let negated):
            return (mask & UInt8(1) << UInt8(visit.weekday) != 0) != negated
        case .hour(let mask, let negated):
            return (mask & UInt32(1) << UInt32(visit.hour) != 0) != negated
        case .never:
            return false
        }
    }
}

/// A substring searched in a visit's value without copying it: Knuth–Morris–Pratt over the
/// string's UTF-8 storage (linear whatever the value, which comes from outside).
struct FlowNeedle: Sendable {
    let bytes: [UInt8]
    let failure: [Int]

    init(_ text: String) {
        bytes = Array(text.utf8)
        var failure = [Int](repeating: 0, count: bytes.count)
        var k = 0
        for i in bytes.indices.dropFirst() {
            while k > 0 && bytes[i] != bytes[k] { k = failure[k - 1] }
            if bytes[i] == bytes[k] { k += 1 }
            failure[i] = k
        }
        self.failure = failure
    }

    func occurs(in text: String) -> Bool {
        guard !bytes.isEmpty else { return true }
        return text.utf8.withContiguousStorageIfAvailable { search($0) } ?? search(Array(text.utf8))
    }

    private func search(_ haystack: some Collection<UInt8>) -> Bool {
        var k = 0
        for byte in haystack {
            while k > 0 && byte != bytes[k] { k = failure[k - 1] }
            if byte == bytes[k] { k += 1 }
            if k == bytes.count { return true }
        }
        return false
    }
}
