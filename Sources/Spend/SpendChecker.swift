import Catalog
import Foundation
import WaymarkCore
import Web

/// Checks spend rows against what the actor may change: sources by id or exact name, their
/// campaigns by id, key or exact name, dimensions among the source's parameters, amounts as
/// plain non-negative decimals, currencies that convert to the workspace's currency.
public struct SpendChecker: Sendable {
    public struct Source: Sendable {
        public var id: Int64
        public var name: String
        public var workspaceID: Int64?
        public var currency: String  // the reporting currency amounts convert to
        public var parameters: Set<String>

        public init(id: Int64, name: String, workspaceID: Int64?, currency: String, parameters: Set<String>) {
            self.id = id
            self.name = name
            self.workspaceID = workspaceID
            self.currency = currency
            self.parameters = parameters
        }
    }

    public typealias CampaignRef = TrafficSourceStore.CampaignName

    public let sources: [Source]
    public let sourcesByID: [Int64: Source]
    public let campaigns: [CampaignRef]
    public let firstRates: [String: String]

    public init(sources: [Source], campaigns: [CampaignRef], firstRates: [String: String]) {
        self.sources = sources
        sourcesByID = Dictionary(sources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.campaigns = campaigns
        self.firstRates = firstRates
    }

    /// The sources the actor may change, their campaigns and the first day of each FX rate.
    public init(actor: Actor, sources store: TrafficSourceStore, fx: FXStore) throws {
        let sources = try store.withReportingCurrency(for: actor).filter { actor.canEdit(workspace: $0.source.workspaceID) }.map {
            Source(
                id: $0.source.id, name: $0.source.name, workspaceID: $0.source.workspaceID, currency: $0.currency,
                parameters: Set($0.source.parameters.map(\.name)))
        }
        self.init(sources: sources, campaigns: try store.campaigns(ofSources: sources.map(\.id)), firstRates: try fx.firstDays())
    }

    /// The checked entries, or every problem found (all rows are checked either way).
    public func check(_ inputs: [SpendInput], now: Date = Date()) -> (entries: [SpendEntry], errors: [SpendRowError]) {
        var entries: [SpendEntry] = []
        var errors: [SpendRowError] = []
        let today = Dates.day(now.addingTimeInterval(86400))
        for input in inputs {
            let (entry, rowErrors) = check(input, today: today)
            if let entry { entries.append(entry) }
            errors += rowErrors
        }
        return (entries, errors)
    }

    private func check(_ input: SpendInput, today: String) -> (SpendEntry?, [SpendRowError]) {
        var rowErrors: [SpendRowError] = []
        func fail(_ field: String, _ message: String) {
            rowErrors.append(SpendRowError(row: input.row, field: field, message: message))
        }
        let date = input.date.trimmingCharacters(in: .whitespaces)
        if Dates.parseDay(date) == nil {
            fail("date", "must be a date YYYY-MM-DD")
        } else if date > today || date < "2000-01-01" {
            fail("date", "is out of range")
        }
        let source = resolveSource(
            input.source.trimmingCharacters(in: .whitespaces), byName: !input.idsOnly, fail: { fail("traffic_source", $0) })
        let campaignID = source.flatMap {
            resolveCampaign(input.campaign.trimmingCharacters(in: .whitespaces), of: $0, byName: !input.idsOnly, fail: fail)
        }
        let amount = input.amount.trimmingCharacters(in: .whitespaces)
        if amount.hasPrefix("-") {
            fail("amount", "must not be negative")
        } else if !Decimals.isPlain(amount) {
            fail("amount", "must be a decimal number with . as separator and at most 6 decimals")
        }
        let currency = input.currency.trimmingCharacters(in: .whitespaces).uppercased()
        if !Currency.isKnown(currency) {
            fail("currency", "must be an ISO 4217 code")
        } else if let source, Dates.parseDay(date) != nil,
            let problem = FXStore.problem(currency, to: source.currency, day: date, firstDays: firstRates)
        {
            fail("currency", problem)
        }
        let dimensions = checkDimensions(input.dimensions, of: source, fail: fail)
        guard rowErrors.isEmpty, let source else { return (nil, rowErrors) }
        let entry = SpendEntry(
            row: input.row, day: date, sourceID: source.id, sourceName: source.name, workspaceID: source.workspaceID,
            campaignID: campaignID, dimensions: dimensions, amount: amount, currency: currency)
        return (entry, [])
    }

    private func resolveSource(_ text: String, byName: Bool, fail: (String) -> Void) -> Source? {
        if text.isEmpty {
            fail("is required")
            return nil
        }
        if let id = Int64(text), let s = sourcesByID[id] { return s }
        let named = byName ? sources.filter { $0.name.lowercased() == text.lowercased() } : []
        if named.count == 1 { return named[0] }
        fail(
            named.isEmpty
                ? "no traffic source \"\(text)\" that you may change" : "\"\(text)\" names \(named.count) traffic sources: use the id")
        return nil
    }

    /// Empty text: spend at source level (nil, no problem).
    private func resolveCampaign(_ text: String, of source: Source, byName: Bool, fail: (String, String) -> Void) -> Int64? {
        guard !text.isEmpty else { return nil }
        let matches = campaigns.filter {
            $0.sourceID == source.id && (String($0.id) == text || (byName && ($0.key == text || $0.name == text)))
        }
        if matches.count == 1 { return matches[0].id }
        if matches.isEmpty {
            fail("campaign", "no campaign \"\(text)\" on traffic source \(source.name)")
        } else {
            fail("campaign", "\"\(text)\" names \(matches.count) campaigns: use the id or key")
        }
        return nil
    }

    private func checkDimensions(_ given: [String: String], of source: Source?, fail: (String, String) -> Void) -> [String: String] {
        var dimensions: [String: String] = [:]
        for (name, value) in given where !value.trimmingCharacters(in: .whitespaces).isEmpty {
            if let source, !source.parameters.contains(name) {
                fail(name, "is not a tracking parameter of \(source.name)")
            } else if value.utf8.contains(0) {
                // NUL: a JSON value of another type (see SpendInput.fromJSON), or a CSV byte jsonb cannot keep.
                fail(name, value == "\u{0}invalid" ? "must be a string or a number" : "must not contain NUL characters")
            } else {
                dimensions[name] = value.trimmingCharacters(in: .whitespaces)
            }
        }
        return dimensions
    }
}
