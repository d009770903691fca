import Catalog
import Foundation
import Testing
import Tracking

extension FlowMatcherTests {
    static func at(_ seconds: Int) -> Date { Date(timeIntervalSince1970: TimeInterval(seconds)) }

    /// [weekday, hour] at `seconds` since 1970 in `zone`.
    static func local(_ seconds: Int, _ zone: TimeZone = FlowFixture.berlin) -> [Int] {
        let local = FlowVisit.weekdayAndHour(at: at(seconds), in: zone)
        return [local.weekday, local.hour]
    }

    @Test func weekdayAndHourInBerlinAcrossTheMarchChange() {
        // 2026-03-29 01:00 UTC: 02:00 CET becomes 03:00 CEST.
        #expect(Self.local(1_774_744_200) == [6, 1])  // 00:30Z = 01:30 CET
        #expect(Self.local(1_774_745_999) == [6, 1])  // 00:59:59Z = 01:59:59 CET
        #expect(Self.local(1_774_746_000) == [6, 3])  // 01:00Z = 03:00 CEST
        // Saturday 23:30 UTC is already Sunday in Berlin.
        #expect(Self.local(1_774_740_600) == [6, 0])
        let summer = F.visit(at: Self.at(1_774_746_000))
        #expect(F.matches("hour", "in", ["3"], summer))
        #expect(!F.matches("hour", "in", ["2"], summer))
        #expect(F.matches("hour", "not_in", ["1", "2"], summer))
        #expect(F.matches("weekday", "in", ["SUN"], summer))
        #expect(F.matches("hour", "in", ["0"], F.visit(at: Self.at(1_774_740_600))))
        #expect(F.matches("weekday", "in", ["sun"], F.visit(at: Self.at(1_774_740_600))))
        #expect(!F.matches("weekday", "in", ["sat"], F.visit(at: Self.at(1_774_740_600))))
    }

    @Test func weekdayAndHourInBerlinAcrossTheOctoberChange() {
        // 2026-10-25 01:00 UTC: 03:00 CEST becomes 02:00 CET; the hour 2 happens twice.
        #expect(Self.local(1_792_884_600) == [6, 1])  // 23:30Z Sat = 01:30 CEST
        #expect(Self.local(1_792_888_200) == [6, 2])  // 00:30Z = 02:30 CEST
        #expect(Self.local(1_792_891_800) == [6, 2])  // 01:30Z = 02:30 CET
        #expect(Self.local(1_792_967_400) == [6, 23])  // 22:30Z = 23:30 CET
        #expect(Self.local(1_792_971_000) == [0, 0])  // 23:30Z = Monday 00:30
        #expect(F.matches("hour", "in", ["2"], F.visit(at: Self.at(1_792_891_800))))
        #expect(F.matches("weekday", "in", ["mon"], F.visit(at: Self.at(1_792_971_000))))
        #expect(F.matches("weekday", "not_in", ["sun"], F.visit(at: Self.at(1_792_971_000))))
        #expect(!F.matches("weekday", "not_in", ["mon", "tue"], F.visit(at: Self.at(1_792_971_000))))
    }

    @Test func weekdayAndHourElsewhere() {
        let utc = TimeZone(identifier: "UTC")!
        #expect(Self.local(1_796_206_500, utc) == [2, 10])
        #expect(Self.local(-1, utc) == [2, 23])  // 1969-12-31, a Wednesday
        #expect(Self.local(1_796_206_500, TimeZone(identifier: "America/New_York")!) == [2, 5])
        #expect(Self.local(1_796_206_500, TimeZone(identifier: "Pacific/Kiritimati")!) == [3, 0])
        #expect(F.matches("hour", "in", ["5"], F.visit(zone: TimeZone(identifier: "America/New_York")!)))
        #expect(F.matches("weekday", "in", ["wed"], F.visit()))
        #expect(F.matches("hour", "in", ["11", "99", "x"], F.visit()))
    }

    @Test func pathsAreTriedInOrderAndTheDefaultTakesTheRest() {
        let compiled = CompiledFlow(
            flow: F.flow([
                F.path([FlowRule(field: "param:zone", op: "in", values: ["z12"])], offers: [(1, 1)]),
                F.path([FlowRule(field: "device", op: "in", values: ["mobile"])], offers: [(2, 1)]),
                F.path(
                    [FlowRule(field: "country", op: "in", values: ["de"]), FlowRule(field: "device", op: "in", values: ["desktop"])],
                    offers: [(3, 1)]),
                F.path(offers: [(4, 1)]),
            ]), offers: F.offers, landers: F.landers)
        var generator = SeededGenerator(state: 7)
        func offer(_ visit: FlowVisit) -> Int64? { compiled.match(visit, using: &generator).route?.offerID }
        #expect(offer(F.visit(ua: F.iPhone)) == 1)  // paths 0, 1 and 2 would all take it
        #expect(offer(F.visit(ua: F.iPhone, parameters: [])) == 2)
        #expect(offer(F.visit(parameters: [])) == 3)
        #expect(offer(F.visit(country: "FR", parameters: [])) == 4)
        #expect(offer(F.visit(ua: F.iPad, parameters: [])) == 4)
        #expect(compiled.pathCount == 4)
    }

    @Test func offersAndLandersSplitByWeight() {
        let compiled = CompiledFlow(
            flow: F.flow([F.path(offers: [(1, 50), (2, 30), (3, 20)]), F.path(landers: [(11, 50), (12, 30), (13, 20)], offers: [(4, 1)])]),
            offers: F.offers, landers: F.landers)
        var generator = SeededGenerator(state: 2026)
        var offers: [Int64: Int] = [:]
        var landers: [Int64: Int] = [:]
        for _ in 0..<10_000 {
            let route = compiled.match(F.visit(), using: &generator).route
            offers[route?.offerID ?? 0, default: 0] += 1
            #expect(route?.landerID == nil)
        }
        let landerFlow = CompiledFlow(
            flow: F.flow([F.path(landers: [(11, 50), (12, 30), (13, 20)], offers: [(4, 1)])]), offers: F.offers, landers: F.landers)
        for _ in 0..<10_000 {
            let route = landerFlow.match(F.visit(), using: &generator).route
            landers[route?.landerID ?? 0, default: 0] += 1
            #expect(route?.offerID == nil)
        }
        for (id, share) in [(Int64(1), 0.5), (2, 0.3), (3, 0.2)] {
            #expect(abs(Double(offers[id, default: 0]) / 10_000 - share) < 0.02, "offer \(id): \(offers[id, default: 0])")
        }
        for (id, share) in [(Int64(11), 0.5), (12, 0.3), (13, 0.2)] {
            #expect(abs(Double(landers[id, default: 0]) / 10_000 - share) < 0.02, "lander \(id): \(landers[id, default: 0])")
        }
    }

    @Test func capsSplitTheRestByWeight() {
        let compiled = CompiledFlow(flow: F.flow([F.path(offers: [(1, 50), (2, 30), (3, 20)])]), offers: F.offers, landers: F.landers)
        var generator = SeededGenerator(state: 5)
        var counts: [Int64: Int] = [:]
        for _ in 0..<10_000 {
            counts[compiled.match(F.visit(), capped: [1], using: &generator).route?.offerID ?? 0, default: 0] += 1
        }
        #expect(counts[1] == nil)
        #expect(abs(Double(counts[2, default: 0]) / 10_000 - 0.6) < 0.02, "\(counts)")
        #expect(abs(Double(counts[3, default: 0]) / 10_000 - 0.4) < 0.02, "\(counts)")
    }
}
