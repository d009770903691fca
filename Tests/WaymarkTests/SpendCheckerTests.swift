import Catalog
import Foundation
import Spend
import Testing
import Web

/// Spend rows checked against a catalog given as values, no database; and the answers' JSON.
@Suite struct SpendCheckerTests {
    let checker = SpendChecker(
        sources: [
            .init(id: 1, name: "Push network", workspaceID: 7, currency: "EUR", parameters: ["sub_source"]),
            .init(id: 2, name: "Email", workspaceID: 7, currency: "USD", parameters: []),
            .init(id: 3, name: "email", workspaceID: 8, currency: "USD", parameters: []),
        ],
        campaigns: [
            .init(id: 10, key: "k10", name: "Black Friday", sourceID: 1),
            .init(id: 11, key: "k11", name: "Twice", sourceID: 1),
            .init(id: 12, key: "k12", name: "Twice", sourceID: 1),
        ],
        firstRates: ["EUR": "0001-01-01", "USD": "2020-01-01"])
    let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18

    func input(
        date: String = "2026-11-01", source: String = "1", campaign: String = "", amount: String = "12.50", currency: String = "USD",
        dimensions: [String: String] = [:]
    ) -> SpendInput {
        SpendInput(row: 1, date: date, source: source, campaign: campaign, amount: amount, currency: currency, dimensions: dimensions)
    }

    @Test func aGoodRowBecomesAnEntryWithItsKey() throws {
        let (entries, errors) = checker.check(
            [input(source: "Push network", campaign: "k10", currency: "usd", dimensions: ["sub_source": " site-42 "])], now: now)
        #expect(errors.isEmpty)
        let entry = try #require(entries.first)
        #expect(entry.sourceID == 1 && entry.campaignID == 10 && entry.workspaceID == 7 && entry.currency == "USD")
        #expect(entry.dimensions == ["sub_source": "site-42"])
        #expect(entry.dimensionsJSON == #"{"sub_source":"site-42"}"#)
    }

    @Test func everyProblemOfARowIsListedInFieldOrder() {
        let (entries, errors) = checker.check(
            [input(date: "2027-01-01", source: "1", campaign: "Twice", amount: "-3", currency: "XXY", dimensions: ["nope": "1"])], now: now)
        #expect(entries.isEmpty)
        #expect(errors.map(\.field) == ["date", "campaign", "amount", "currency", "nope"])
        #expect(errors[1].message == "\"Twice\" names 2 campaigns: use the id or key")
    }

    @Test func sourcesResolveByIdOrOneExactName() {
        #expect(checker.check([input(source: "")], now: now).errors.map(\.message) == ["is required"])
        #expect(
            checker.check([input(source: "Nowhere")], now: now).errors.map(\.message) == [
                "no traffic source \"Nowhere\" that you may change"
            ])
        #expect(
            checker.check([input(source: "EMAIL")], now: now).errors.map(\.message) == ["\"EMAIL\" names 2 traffic sources: use the id"])
        #expect(checker.check([input(source: "2")], now: now).errors.isEmpty)
    }

    /// The JSON API names sources and campaigns by id (docs/api.md); only CSV rows match names.
    /// Found by the hostile suite: `"traffic_source_id": 0` stored spend on a source named "0".
    @Test func jsonRowsNameSourcesAndCampaignsByIDOnly() throws {
        let json = try SpendInput.fromJSON([
            "entries": [
                ["date": "2026-11-01", "traffic_source_id": "Email", "amount": "1", "currency": "USD"],
                ["date": "2026-11-01", "traffic_source_id": 1, "campaign_id": "k10", "amount": "1", "currency": "USD"],
                ["date": "2026-11-01", "traffic_source_id": 1, "campaign_id": 10, "amount": "1", "currency": "USD"],
            ]
        ])
        let (entries, errors) = checker.check(json, now: now)
        #expect(errors.map(\.field) == ["traffic_source", "campaign"])
        #expect(entries.map(\.row) == [3] && entries.first?.campaignID == 10)
        #expect(checker.check([input(source: "Push network", campaign: "k10")], now: now).entries.first?.campaignID == 10)
    }

    @Test func aCurrencyWithoutRatesOnTheDayIsRefused() {
        let (_, errors) = checker.check([input(date: "2019-06-01", currency: "USD")], now: now)
        #expect(errors.map(\.message) == ["no FX rate for USD on or before 2019-06-01"])
    }

    @Test func aSplitAddsUpToTheTotal() {
        let split = SpendSplit.evenly(Decimal(string: "100")!, over: ["2026-11-01", "2026-11-02", "2026-11-03"])
        #expect(split.map(\.amount) == ["33.33", "33.33", "33.34"])
    }

    func json(_ value: some Encodable) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: JSONCoding.encoder.encode(value)) as? [String: Any])
    }

    @Test func anEntryKeepsItsNulls() throws {
        let row = SpendRow(
            id: 5, day: "2026-11-01", sourceID: 1, sourceName: "Push", campaignID: nil, campaignName: "", dimensions: [:], amount: "1.5",
            currency: "EUR", origin: "api", updatedAt: now, createdBy: "a@example.com")
        let object = try json(row)
        #expect(
            Set(object.keys) == [
                "id", "date", "traffic_source_id", "campaign_id", "dimensions", "amount", "currency", "origin", "updated_at",
            ])
        #expect(object["campaign_id"] is NSNull && object["dimensions"] is NSNull)
        #expect(object["updated_at"] as? String == RFC3339.string(from: now))
    }

    @Test func anOutcomeAnswersAsThePreviewDid() throws {
        var outcome = SpendFeedRunner.Outcome(from: "2026-11-01", to: "2026-11-03")
        outcome.rejected = [SpendRowError(row: 2, field: "date", message: "is out of range")]
        outcome.error = "1 of 2 rows rejected: nothing imported"
        let object = try json(outcome)
        #expect(object["status"] as? String == "failed")
        #expect(object["http_status"] is NSNull)
        #expect(object["rows_rejected"] as? Int == 1)
        #expect((object["window"] as? [String: String]) == ["from": "2026-11-01", "to": "2026-11-03"])
        #expect((object["rows"] as? [Any])?.isEmpty == true)
    }
}
