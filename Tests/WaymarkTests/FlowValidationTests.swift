import Catalog
import Foundation
import Testing
import Web

/// SPEC section 9's flow validation as a plain value: every bad field named, nothing stored.
struct FlowValidationTests {
    let check = FlowValidation(usableLanders: [1, 2], usableOffers: [10, 11, 12])

    func path(_ rules: [FlowRule] = [], landers: [(Int64, Int)] = [], offers: [(Int64, Int)] = [(10, 1)]) -> FlowPath {
        FlowPath(
            name: "p", rules: rules, landers: landers.map { .init(id: $0.0, weight: $0.1) },
            offers: offers.map { .init(id: $0.0, weight: $0.1) })
    }

    func rule(_ field: String, _ values: [String], op: String = "in") -> FlowRule { FlowRule(field: field, op: op, values: values) }

    /// The body's type errors and the checks, as the store merges them.
    func errors(_ body: [String: Any]) -> [String: String] {
        var reader = FieldReader(body)
        var draft = FlowDraft()
        draft.apply(&reader)
        return check.errors(name: draft.name, paths: draft.paths).merging(reader.errors) { _, input in input }
    }

    @Test func aGoodFlowHasNoErrors() {
        let paths = [
            path(
                [rule("country", ["DE", "at"]), rule("device", ["Bot"], op: "not_in")], landers: [(1, 50), (2, 50)],
                offers: [(10, 3), (11, 1)]),
            path([rule("param:zone", ["12"], op: "contains"), rule("referrer_domain", ["spam.example"], op: "not_contains")]),
            path([rule("weekday", ["MON", "sun"]), rule("hour", ["0", "23"]), rule("ip", ["203.0.113.0/24", "2001:db8::/32", "::1"])]),
            path([rule("language", ["pt-br"]), rule("os", ["iOS"]), rule("browser", ["Chrome"])]),
            path(offers: [(12, 1)]),
        ]
        #expect(check.errors(name: "Main", paths: paths).isEmpty)
    }

    @Test func aFlowNeedsANameAndPaths() {
        let errors = check.errors(name: " ", paths: [])
        #expect(Set(errors.keys) == ["name", "paths"])
        #expect(errors["name"] == "is required")
        #expect(check.errors(name: String(repeating: "x", count: 201), paths: [path()]).keys.contains("name"))
    }

    @Test func theLastPathIsTheDefaultAndHasNoRules() {
        let errors = check.errors(name: "f", paths: [path([rule("country", ["DE"])]), path([rule("device", ["mobile"])])])
        #expect(Set(errors.keys) == ["paths[1].rules"])
    }

    @Test func unknownFieldsAndOpsAreNamed() {
        let errors = check.errors(
            name: "f",
            paths: [
                path([
                    rule("colour", ["red"]), rule("country", ["DE"], op: "contains"), rule("referrer_domain", ["x"], op: "equals"),
                    rule("param:", ["1"]), rule("param:zone", ["1"], op: "matches"), rule("device", ["mobile"], op: "IN"),
                ]),
                path(),
            ])
        #expect(
            Set(errors.keys) == [
                "paths[0].rules[0].field", "paths[0].rules[1].op", "paths[0].rules[2].op", "paths[0].rules[3].field",
                "paths[0].rules[4].op", "paths[0].rules[5].op",
            ])
        #expect(errors["paths[0].rules[1].op"] == "must be in or not_in")
        #expect(errors["paths[0].rules[2].op"] == "must be in, not_in, contains or not_contains")
    }

    @Test func valuesOfTheWrongKindAreNamedOneByOne() {
        let errors = check.errors(
            name: "f",
            paths: [
                path([
                    rule("device", ["mobile", "phone"]), rule("weekday", ["monday"]), rule("hour", ["24", "-1", "7", "1.5"]),
                    rule("ip", ["10.0.0.0/33", "2001:db8::/129", "300.1.1.1", "10.0.0.0/", "10.0.0.1"]), rule("country", ["DEU"]),
                    rule("language", ["de_DE"]), rule("os", []), rule("browser", [" "]),
                ]),
                path(),
            ])
        #expect(
            Set(errors.keys) == [
                "paths[0].rules[0].values[1]", "paths[0].rules[1].values[0]", "paths[0].rules[2].values[0]",
                "paths[0].rules[2].values[1]", "paths[0].rules[2].values[3]", "paths[0].rules[3].values[0]",
                "paths[0].rules[3].values[1]", "paths[0].rules[3].values[2]", "paths[0].rules[3].values[3]",
                "paths[0].rules[4].values[0]", "paths[0].rules[5].values[0]", "paths[0].rules[6].values",
                "paths[0].rules[7].values[0]",
            ])
        #expect(errors["paths[0].rules[6].values"] == "needs at least one value")
    }

    @Test func addressesAndCIDRs() {
        for good in ["203.0.113.9", "203.0.113.0/24", "0.0.0.0/0", "2001:db8::1", "2001:db8::/32", "::/0", "::ffff:10.0.0.1/128"] {
            #expect(FlowValidation.isAddressOrCIDR(good), "\(good)")
        }
        for bad in ["", "/8", "10.0.0", "10.0.0.0/+8", "10.0.0.0/8/8", "example.com", "2001:db8::/1290", "fe80::1%eth0"] {
            #expect(!FlowValidation.isAddressOrCIDR(bad), "\(bad)")
        }
    }

    @Test func weightsOffersAndLandersOfAPath() {
        let errors = check.errors(
            name: "f",
            paths: [
                path(landers: [(1, 0), (3, 1), (1, 2)], offers: [(10, -1), (99, 1)]),
                path(offers: []),
            ])
        #expect(
            Set(errors.keys) == [
                "paths[0].landers[0].weight", "paths[0].landers[1].lander_id", "paths[0].landers[2].lander_id",
                "paths[0].offers[0].weight", "paths[0].offers[1].offer_id", "paths[1].offers",
            ])
        #expect(errors["paths[0].landers[2].lander_id"] == "is listed twice in this path")
        #expect(errors["paths[1].offers"] == "needs at least one offer")
    }

    /// Type errors from the body keep the body's indexes and win over the checks' messages.
    @Test func theBodysTypeErrorsAreNamedToo() {
        let errors = errors([
            "name": "f",
            "paths": [
                ["rules": [["field": "hour", "op": "in", "values": [9, "10", true]]], "offers": [["offer_id": 10, "weight": 1.5]]],
                "not a path",
                ["landers": [["weight": 1]], "offers": [["offer_id": "x"], 7]],
                ["name": 5, "rules": "none", "offers": [["offer_id": 11]]],
            ],
        ])
        #expect(errors["paths[0].rules[0].values"] == "must be a list of strings")
        #expect(errors["paths[0].offers[0].weight"]?.hasPrefix("must be a whole number") == true)
        #expect(errors["paths[1]"] != nil)
        #expect(errors["paths[2].landers[0].lander_id"] == "is required")
        #expect(errors["paths[2].offers[0].offer_id"] == "must be a whole number")
        #expect(errors["paths[2].offers[1]"] != nil)
        #expect(errors["paths[3].name"] == "must be a string")
        #expect(errors["paths[3].rules"] == "must be a list")
        #expect(errors["paths[0].rules[0].values[0]"] == nil)
        #expect(errors["paths"] == nil)
    }

    @Test func theBodyReadsIntoPaths() {
        var reader = FieldReader([
            "name": "Main", "workspace_id": NSNull(),
            "paths": [
                [
                    "name": "DE", "rules": [["field": "country", "op": "in", "values": ["DE"]]],
                    "landers": [["lander_id": 1, "weight": 2]],
                    "offers": [["offer_id": 10]],
                ],
                ["offers": [["offer_id": 11, "weight": 3]]],
            ],
        ])
        var draft = FlowDraft()
        draft.apply(&reader)
        #expect(reader.errors.isEmpty)
        #expect(draft.name == "Main" && draft.workspaceID == nil)
        #expect(
            draft.paths == [
                FlowPath(
                    name: "DE", rules: [FlowRule(field: "country", op: "in", values: ["DE"])], landers: [.init(id: 1, weight: 2)],
                    offers: [.init(id: 10, weight: 1)]),
                FlowPath(name: "Path 2", rules: [], landers: [], offers: [.init(id: 11, weight: 3)]),
            ])
        var notAList = FieldReader(["paths": ["a": 1]])
        draft.apply(&notAList)
        #expect(notAList.errors["paths"] != nil)
    }

    @Test func offersAndLandersCheckTheirFields() {
        var offer = OfferDraft()
        #expect(Set(offer.check().keys) == ["name", "url"])
        offer.name = "O"
        offer.url = "https://{sub}.example/"
        offer.payout = "-1"
        offer.currency = "EURO"
        offer.status = "on"
        offer.dailyCap = 0
        #expect(Set(offer.check().keys) == ["url", "payout", "currency", "status", "daily_cap"])
        offer.url = "https://offer.example/?c={clickid}&z={zone}"
        offer.payout = "12.50"
        offer.currency = "EUR"
        offer.status = "paused"
        offer.dailyCap = nil
        #expect(offer.check().isEmpty)
        var reader = FieldReader(["payout": "1,5", "daily_cap": 0, "offers_count": 21])
        offer.apply(&reader)
        #expect(Set(reader.errors.keys) == ["payout", "daily_cap"])
        var lander = LanderDraft()
        lander.name = "L"
        lander.url = "ftp://lander.example/"
        lander.offersCount = 21
        #expect(Set(lander.check().keys) == ["url", "offers_count"])
        lander.apply(&reader)
        #expect(reader.errors["offers_count"] != nil)
    }
}
