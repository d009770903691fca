import Foundation
import Postgres
import Threads

/// Offers' daily caps (SPEC §9) as the click path asks them: each capped offer's approved
/// conversions of its workspace's current day, counted by PostgreSQL (`OfferCapStore`) at start,
/// on every `waymark_offer_caps` notification and with each cache reload, and held here with
/// the day's bounds. Past the day's end an offer counts as not capped (a new day has no
/// conversions yet) until the next count.
public final class OfferCaps: Sendable {
    public struct Count: Sendable, Equatable {
        public var cap: Int
        public var count: Int
        /// The day the count is of, in the offer's workspace zone, as seconds since 1970.
        public var dayStart: Double
        public var dayEnd: Double

        public init(cap: Int, count: Int, dayStart: Double, dayEnd: Double) {
            self.cap = cap
            self.count = count
            self.dayStart = dayStart
            self.dayEnd = dayEnd
        }

        public func isCapped(at time: Double) -> Bool { time >= dayStart && time < dayEnd && count >= cap }
    }

    private let counts = ReadMostly<[Int64: Count]>([:])

    public init() {}

    public func isCapped(_ offerID: Int64, at date: Date) -> Bool {
        counts.read { $0[offerID] }?.isCapped(at: date.timeIntervalSince1970) ?? false
    }

    public func replace(with fresh: [Int64: Count]) { counts.write { $0 = fresh } }

    public func refresh(on c: PostgresConnection) throws { replace(with: try OfferCapStore.counts(on: c)) }
}
