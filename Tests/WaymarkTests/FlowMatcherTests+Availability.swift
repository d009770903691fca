import Catalog
import Foundation
import Testing
import Tracking
import WaymarkCore

extension FlowMatcherTests {
    static let germany = [FlowRule(field: "country", op: "in", values: ["de"])]

    @Test func pausedCappedAndUnknownOffersAreSkipped() {
        var offers = F.offers
        offers[0].active = false  // offer 1 paused; offer 7 is not passed at all (deleted or not visible)
        let compiled = CompiledFlow(
            flow: F.flow([F.path(offers: [(1, 1000), (2, 1000), (3, 1), (7, 1000)])]), offers: offers, landers: F.landers)
        var generator = SeededGenerator(state: 3)
        for _ in 0..<500 {
            let offer = compiled.match(F.visit(), capped: [2], using: &generator).route?.offerID
            #expect(offer == 3)
            #expect(compiled.match(F.visit(), isCapped: { $0 == 2 }, using: &generator).route?.offerID == 3)
        }
    }

    @Test func noOfferLeftTriesTheNextPathThenFallsBack() {
        let compiled = CompiledFlow(
            flow: F.flow([
                F.path(Self.germany, offers: [(1, 1), (2, 1)]),
                F.path(Self.germany, landers: [(11, 1)], offers: [(3, 1)]),
                F.path(offers: [(4, 1)]),
            ]), offers: F.offers, landers: F.landers)
        var generator = SeededGenerator(state: 4)
        #expect(compiled.match(F.visit(), capped: [], using: &generator).route?.pathIndex == 0)
        let second = compiled.match(F.visit(), capped: [1, 2], using: &generator).route
        #expect(second?.pathIndex == 1)
        #expect(second?.landerID == 11)
        // A lander is not shown when its path has no offer left.
        let third = compiled.match(F.visit(), capped: [1, 2, 3], using: &generator).route
        #expect(third?.pathIndex == 2)
        #expect(third?.offerID == 4)
        guard case .fallback = compiled.match(F.visit(), capped: [1, 2, 3, 4], using: &generator) else {
            Issue.record("expected the fallback")
            return
        }
        // No path matches at all.
        let germanOnly = CompiledFlow(flow: F.flow([F.path(Self.germany, offers: [(1, 1)])]), offers: F.offers, landers: F.landers)
        #expect(germanOnly.match(F.visit(country: "FR"), using: &generator).route == nil)
        #expect(CompiledFlow(flow: F.flow([]), offers: [], landers: []).match(F.visit()).route == nil)
    }

    @Test func directLinkingSendsToTheOfferAndALanderDefersIt() {
        let compiled = CompiledFlow(
            flow: F.flow([F.path(Self.germany, offers: [(2, 1)]), F.path(landers: [(12, 1)], offers: [(3, 1), (4, 1)])]),
            offers: F.offers, landers: F.landers)
        var generator = SeededGenerator(state: 8)
        let direct = compiled.match(F.visit(), using: &generator).route
        #expect(direct?.pathIndex == 0)
        #expect(direct?.landerID == nil)
        #expect(direct?.offerID == 2)
        #expect(direct?.url == "https://offer.example/2?c={clickid}")
        #expect(direct?.offer?.info.url == "https://offer.example/2?c={clickid}")
        #expect(direct?.template.pieces.count == 2)
        let viaLander = compiled.match(F.visit(country: "AT"), using: &generator).route
        #expect(viaLander?.pathIndex == 1)
        #expect(viaLander?.landerID == 12)
        #expect(viaLander?.offerID == nil)
        #expect(viaLander?.url == "https://lander.example/12")
    }

    @Test func pausedLandersAreSkippedAndNoneActiveLinksDirectly() {
        var landers = F.landers
        landers[0].active = false  // lander 11
        let compiled = CompiledFlow(
            flow: F.flow([F.path(landers: [(11, 1000), (12, 1)], offers: [(1, 1)]), F.path(landers: [(11, 1)], offers: [(2, 1)])]),
            offers: F.offers, landers: landers)
        var generator = SeededGenerator(state: 9)
        for _ in 0..<200 { #expect(compiled.match(F.visit(), using: &generator).route?.landerID == 12) }
        let withoutLander = CompiledFlow(
            flow: F.flow([F.path(landers: [(11, 1)], offers: [(2, 1)])]), offers: F.offers, landers: landers)
        let route = withoutLander.match(F.visit(), using: &generator).route
        #expect(route?.landerID == nil)
        #expect(route?.offerID == 2)
    }

    @Test func clickThroughDrawsAmongTheOffersLeftOrTakesTheNumberedOne() {
        var offers = F.offers
        offers[2].active = false  // offer 3 paused
        let compiled = CompiledFlow(
            flow: F.flow([F.path(landers: [(11, 1)], offers: [(1, 70), (2, 30), (3, 1000), (5, 1)])]), offers: offers, landers: F.landers)
        var generator = SeededGenerator(state: 10)
        var counts: [Int64: Int] = [:]
        for _ in 0..<10_000 {
            counts[compiled.drawOffer(path: 0, isCapped: { $0 == 5 }, using: &generator)?.id ?? 0, default: 0] += 1
        }
        #expect(counts[3] == nil && counts[5] == nil)
        #expect(abs(Double(counts[1, default: 0]) / 10_000 - 0.7) < 0.02, "\(counts)")
        #expect(compiled.drawOffer(path: 0, isCapped: { $0 != 2 }, using: &generator)?.id == 2)
        #expect(compiled.drawOffer(path: 0, isCapped: { _ in true }, using: &generator) == nil)
        #expect(compiled.drawOffer(path: 1, isCapped: { _ in false }, using: &generator) == nil)
        // `/click/{n}`: the n-th offer as listed; a paused, capped or missing one → a drawn one.
        #expect(compiled.offer(path: 0, number: 2, isCapped: { _ in false }, using: &generator)?.id == 2)
        #expect(compiled.offer(path: 0, number: 4, isCapped: { _ in false }, using: &generator)?.id == 5)
        for number in [0, 3, 5, Int.min, Int.max] {
            let id = compiled.offer(path: 0, number: number, isCapped: { $0 == 1 }, using: &generator)?.id
            #expect(id == 2 || id == 5, "number \(number)")
        }
        #expect(compiled.offer(path: 0, number: 2, isCapped: { $0 != 1 }, using: &generator)?.id == 1)
        #expect(compiled.offer(path: 3, number: 1, isCapped: { _ in false }, using: &generator) == nil)
    }
}
