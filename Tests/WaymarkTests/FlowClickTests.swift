import Addresses
import Catalog
import Foundation
import Testing
import Tracking
import WaymarkCore

/// A click on a flow campaign (ClickRecorder with a CompiledFlow), the writer's records in the
/// spool, the recent clicks' kept offers and the caps' day bounds.
@Suite struct FlowClickTests {
    static let at = FlowFixture.wednesday

    func campaign(_ flow: CompiledFlow?, fallback: String? = nil, destination: String = "") -> CachedCampaign {
        CachedCampaign(
            id: 42, key: "Key_42", active: true, destinationURL: destination, fallbackURL: fallback, costModel: .cpc,
            costAmount: Decimal(string: "0.3")!, trafficSourceID: 7, workspaceID: nil, clickIDParam: "fbclid",
            parameters: [TrafficSource.Parameter(name: "zone", token: "", slot: 1)], flowID: flow == nil ? nil : 9, flow: flow,
            timeZone: FlowFixture.berlin)
    }

    func visit(_ parameters: [(String, String)], ua: String = FlowFixture.desktop) -> Visit {
        Visit(
            parameters: parameters, ip: "203.0.113.5", userAgent: ua, referrer: "", country: "DE", acceptLanguage: "de-AT", at: Self.at)
    }

    func compiled(_ paths: [FlowPath], offers: [FlowOfferInfo] = FlowFixture.offers) -> CompiledFlow {
        CompiledFlow(
            flow: FlowFixture.flow(paths), offers: offers,
            landers: [FlowLanderInfo(id: 30, url: "https://lp.example/?c={clickid}&l={lander_id}&o={offer_id}&z={zone}")])
    }

    @Test func aMatchingPathSendsTheClickToItsOfferWithTheFlowTokensFilled() {
        let flow = compiled([
            FlowFixture.path([FlowRule(field: "param:zone", op: "in", values: ["z1"])], offers: [(2, 1)]),
            FlowFixture.path(landers: [(30, 1)], offers: [(1, 1)]),
        ])
        let recorder = ClickRecorder(botAddresses: IPRanges(""))
        let direct = recorder.click(for: campaign(flow), visit: visit([("zone", "Z1"), ("fbclid", "F")]))
        #expect(direct.flowID == 9 && direct.flowPath == 0 && direct.landerID == nil && direct.offerID == 2)
        #expect(direct.destination == "https://offer.example/2?c=\(direct.id)")
        #expect(direct.slots == [1: "Z1"] && direct.externalID == "F" && direct.cost == "0.3")

        let landed = recorder.click(for: campaign(flow), visit: visit([("zone", "z 9")]))
        #expect(landed.flowPath == 1 && landed.landerID == 30 && landed.offerID == nil)
        #expect(landed.destination == "https://lp.example/?c=\(landed.id)&l=30&o=&z=z%209")
    }

    @Test func withNoAvailableOfferTheClickGoesToTheFallbackOrNowhere() {
        let paused = FlowOfferInfo(id: 1, url: "https://offer.example/1", active: false)
        let flow = compiled([FlowFixture.path(offers: [(1, 1)])], offers: [paused])
        let recorder = ClickRecorder(botAddresses: IPRanges(""))
        let fallback = recorder.click(for: campaign(flow, fallback: "https://fb.example/"), visit: visit([]))
        #expect(fallback.destination == "https://fb.example/" && fallback.flowID == 9 && fallback.flowPath == nil)
        #expect(recorder.click(for: campaign(flow), visit: visit([])).destination.isEmpty)
        // A capped-out offer is skipped like a paused one.
        let caps = OfferCaps()
        caps.replace(with: [
            1: OfferCaps.Count(cap: 2, count: 2, dayStart: Self.at.timeIntervalSince1970 - 60, dayEnd: Self.at.timeIntervalSince1970 + 60)
        ])
        let capped = compiled([FlowFixture.path(offers: [(1, 1)])])
        #expect(recorder.click(for: campaign(capped), visit: visit([]), caps: caps).destination.isEmpty)
        #expect(recorder.click(for: campaign(capped), visit: visit([])).offerID == 1)
    }

    @Test func aPlainCampaignKeepsOfferIDAsAnOrdinaryParameter() {
        let recorder = ClickRecorder(botAddresses: IPRanges(""))
        let click = recorder.click(for: campaign(nil, destination: "https://o.example/?o={offer_id}"), visit: visit([("offer_id", "77")]))
        #expect(click.destination == "https://o.example/?o=77" && click.flowID == nil)
    }

    @Test func aCapCountsOnlyWithinItsDay() {
        let count = OfferCaps.Count(cap: 3, count: 3, dayStart: 1000, dayEnd: 2000)
        #expect(count.isCapped(at: 1000) && count.isCapped(at: 1999.9))
        #expect(!count.isCapped(at: 2000) && !count.isCapped(at: 999))
        #expect(!OfferCaps.Count(cap: 3, count: 2, dayStart: 1000, dayEnd: 2000).isCapped(at: 1500))
    }

    @Test func theSpoolKeepsClicksAndClickThroughsAndReadsOldClickLines() throws {
        let recorder = ClickRecorder(botAddresses: IPRanges(""))
        let flow = compiled([FlowFixture.path(landers: [(30, 1)], offers: [(1, 1)])])
        let click = recorder.click(for: campaign(flow), visit: visit([("zone", "a")]))
        let through = try #require(ClickThrough(click: click, offerID: 1, destination: "https://offer.example/1", at: Self.at))
        let directory = NSTemporaryDirectory() + "spool-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spool = try ClickSpool(directory: directory)
        #expect(spool.append([.click(click), .through(through)]))
        // A line written before flows: a bare click without the flow fields.
        var old = click
        (old.flowID, old.flowPath, old.landerID) = (nil, nil, nil)
        let json = try ClickSpool.encoder.encode(ClickRecord.click(old))
        let line = ClickSpool.checksum(json) + " " + String(decoding: json, as: UTF8.self) + "\n"
        let handle = try #require(FileHandle(forWritingAtPath: spool.current))
        handle.seekToEndOfFile()
        handle.write(Data(line.utf8))
        handle.closeFile()
        let (records, skipped) = spool.read(spool.current)
        #expect(skipped == 0 && records.count == 3)
        guard case .click(let first) = records[0], case .through(let second) = records[1], case .click(let third) = records[2] else {
            Issue.record("records came back as \(records)")
            return
        }
        #expect(first.id == click.id && first.landerID == 30 && first.flowPath == 0)
        #expect(second == through)
        #expect(third.id == click.id && third.flowID == nil)
        // A click that went to no lander has no click-through.
        #expect(ClickThrough(click: old, offerID: 1, destination: "", at: Self.at) == nil)
    }

    @Test func aClickKeepsTheOfferDrawnFirstAndMemoryStaysBounded() {
        let recent = RecentClicks(capacity: 2, shards: 1)
        let recorder = ClickRecorder(botAddresses: IPRanges(""))
        let flow = compiled([FlowFixture.path(landers: [(30, 1)], offers: [(1, 1)])])
        let clicks = (0..<5).map { _ in recorder.click(for: campaign(flow), visit: visit([])) }
        recent.remember(clicks[0])
        #expect(recent.keepOffer(for: clicks[0], known: nil) { 5 } == 5)
        #expect(recent.keepOffer(for: clicks[0], known: nil) { 6 } == 5)
        #expect(recent.keepOffer(for: clicks[1], known: 8) { 6 } == 8)
        #expect(recent.keepOffer(for: clicks[2], known: nil) { nil } == nil)
        for click in clicks { recent.remember(click) }
        #expect(recent.count <= 4)
        #expect(recent.entry(clicks[4].id) != nil && recent.entry(clicks[0].id) == nil)
    }
}
