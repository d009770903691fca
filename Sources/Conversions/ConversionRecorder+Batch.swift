import Foundation
import Logging
import Postgres
import WaymarkCore
import Web

extension ConversionRecorder {
    /// A postback to record.
    public struct Item: Sendable {
        public var input: PostbackInput
        public var raw: Raw
        public var checkSecret: Bool
        /// The unattributed postback in the ledger that this one records (attach): marked, not added.
        public var attachingPostback: Int64?

        public init(_ input: PostbackInput, raw: Raw, checkSecret: Bool) {
            self.input = input
            self.raw = raw
            self.checkSecret = checkSecret
        }
    }

    /// Records a batch of postbacks (docs/tracking.md) in the caller's transaction, each with the
    /// outcome it gets when recorded alone after the ones before it: find the clicks (one
    /// statement), check the workspace secret, create events that are new, insert the new
    /// conversions (one statement), compare the rest with their stored conversion, queue the
    /// deliveries, and keep every postback as received in the ledger (one statement). A postback
    /// refused on its own (too many unattributed from its address) fails alone; a SQL error
    /// throws for the whole batch.
    public func record(_ items: [Item], on c: PostgresConnection) throws -> [Swift.Result<Result, any Error>] {
        let found = try clicks.forConversions(items.map(\.input.clickID), on: c)
        var failures: [Int: any Error] = [:]
        var entries: [(index: Int, entry: PostbackStore.Entry)] = []
        var converting: [Converting] = []
        for (index, item) in items.enumerated() {
            guard let click = found[item.input.clickID] else {
                if unattributedLimit.allow(item.raw.sourceIP) {
                    entries.append((index, entry(item, item.input, .unattributed, workspaceID: nil, unattributed: true)))
                } else {
                    failures[index] = HTTPError.tooManyRequests("too many postbacks for unknown clicks from this address; slow down")
                }
                continue
            }
            if item.checkSecret, let why = refusal(item.input, click: click) {
                entries.append((index, entry(item, item.input, .forbidden, workspaceID: click.workspaceID, error: why)))
                continue
            }
            let new = ConversionRecorder.settled(item.input, click: click)
            try events.ensure(on: c, workspaceID: click.workspaceID, key: new.input.event)
            converting.append(Converting(index: index, new: new))
        }
        try convert(&converting, on: c)
        for one in converting {
            let item = items[one.index]
            if let attaching = item.attachingPostback {
                try postbacks.markAttached(on: c, id: attaching, click: one.new.click, conversionID: one.conversionID)
            } else {
                let e = entry(item, one.new.input, one.outcome, workspaceID: one.new.click.workspaceID, conversionID: one.conversionID)
                entries.append((one.index, e))
            }
        }
        entries.sort { $0.index < $1.index }
        let ids = try postbacks.insert(on: c, entries.map(\.entry))
        var results = [Swift.Result<Result, any Error>?](repeating: nil, count: items.count)
        for (index, error) in failures { results[index] = .failure(error) }
        for ((index, e), id) in zip(entries, ids) {
            results[index] = .success(Result(outcome: e.outcome, conversionID: e.conversionID, postbackID: id))
            if e.outcome == .forbidden {
                let why = e.input.secret == nil ? "missing" : "wrong"
                logger.warning("postback \(id) for click \(e.input.clickID) refused: \(why) workspace secret from \(e.raw.sourceIP)")
            }
        }
        for one in converting where items[one.index].attachingPostback != nil {
            results[one.index] = .success(
                Result(outcome: one.outcome, conversionID: one.conversionID, postbackID: items[one.index].attachingPostback!))
        }
        return results.map { $0 ?? .failure(HTTPError.notFound("no click \(items.first?.input.clickID ?? "")")) }
    }

    /// A postback on its way to a conversion.
    struct Converting {
        var index: Int
        var new: ConversionStore.New
        var outcome = Outcome.recorded
        var conversionID: Int64 = 0
        var previousStatus: String?
    }

    /// The payout and currency a conversion gets: the postback's, else the offer's when it
    /// brings no payout (SPEC §9), else the campaign's currency.
    static func settled(_ input: PostbackInput, click: ClickForConversion) -> ConversionStore.New {
        var input = input
        if !input.hasPayout, let payout = click.offerPayout, let currency = click.offerCurrency {
            input.payout = payout
            input.currency = currency
        }
        return ConversionStore.New(click: click, input: input, currency: input.currency ?? click.campaignCurrency)
    }

    /// Why the postback is refused when the workspace has a secret and it lacks that or has another.
    private func refusal(_ input: PostbackInput, click: ClickForConversion) -> String? {
        guard let expected = click.workspaceSecret, !expected.isEmpty else { return nil }
        if let given = input.secret, ConstantTime.equal(given, expected) { return nil }
        return input.secret == nil ? "missing secret" : "wrong secret"
    }

    /// Inserts the new keys together (each key's first postback of the batch, in click order so
    /// that concurrent batches lock keys in one order), then in arrival order settles the rest
    /// against the stored conversion and queues the deliveries of each that is not a duplicate.
    private func convert(_ converting: inout [Converting], on c: PostgresConnection) throws {
        var seen = Set<ConversionStore.Key>()
        let first = converting.indices.filter { seen.insert(converting[$0].new.key).inserted }
        let ordered = first.sorted { (converting[$0].new.click.id, $0) < (converting[$1].new.click.id, $1) }
        let inserted = try conversions.insert(on: c, ordered.map { converting[$0].new })
        let firsts = Set(first)
        for i in converting.indices {
            if firsts.contains(i), let id = inserted[converting[i].new.key] {
                converting[i].conversionID = id
            } else {
                try settle(&converting[i], on: c)
            }
            let one = converting[i]
            if one.outcome != .duplicate {
                try outbox.enqueue(
                    on: c, conversionID: one.conversionID, click: one.new.click, input: one.new.input, currency: one.new.currency,
                    previousStatus: one.previousStatus)
            }
        }
    }

    /// A postback whose key has a conversion (stored before, or earlier in the batch): the same
    /// fields are a duplicate, others update it. A key stored meanwhile by a concurrent
    /// transaction is inserted now if that one rolled back.
    private func settle(_ one: inout Converting, on c: PostgresConnection) throws {
        let new = one.new
        if let id = try conversions.insert(on: c, [new])[new.key] {
            one.conversionID = id
            return
        }
        let stored = try conversions.existing(on: c, clickID: new.click.id, input: new.input)
        one.conversionID = stored.id
        let same =
            stored.status == new.input.status.rawValue && stored.samePayout && stored.currency == new.currency
            && stored.event == new.input.event
        if same {
            one.outcome = .duplicate
            return
        }
        try conversions.update(on: c, id: stored.id, input: new.input, currency: new.currency)
        one.outcome = .updated
        one.previousStatus = stored.status
    }

    private func entry(
        _ item: Item, _ input: PostbackInput, _ outcome: Outcome, workspaceID: Int64?, conversionID: Int64? = nil, error: String? = nil,
        unattributed: Bool = false
    ) -> PostbackStore.Entry {
        PostbackStore.Entry(
            raw: item.raw.kept(secret: input.secret, unattributed: unattributed), input: input, outcome: outcome,
            workspaceID: workspaceID, conversionID: conversionID, error: error)
    }
}
