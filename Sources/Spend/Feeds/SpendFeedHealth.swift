import Foundation

/// The spend-feed pause rule, as a value (no database, no network): a failed run counts one
/// more failure in a row and pauses the feed, with why, at `maxFailures`; a successful run
/// clears the count (a paused feed stays paused: only a person resumes it). Resuming, or a new
/// schedule, clears the count and starts the schedule anew (`SpendFeedSchedule.firstRun`).
public struct SpendFeedHealth: Sendable, Equatable {
    public var status: String
    public var consecutiveFailures: Int
    public var maxFailures: Int
    public var pausedReason: String?

    public init(status: String, consecutiveFailures: Int, maxFailures: Int, pausedReason: String?) {
        self.status = status
        self.consecutiveFailures = consecutiveFailures
        self.maxFailures = maxFailures
        self.pausedReason = pausedReason
    }

    /// How a recorded run (not a preview) ended.
    public enum Run: Sendable, Equatable {
        case succeeded
        case failed(String)
    }

    /// The health after `run`.
    public func recording(_ run: Run) -> SpendFeedHealth {
        var next = self
        switch run {
        case .succeeded:
            next.consecutiveFailures = 0
        case .failed(let error):
            next.consecutiveFailures += 1
            if next.consecutiveFailures >= maxFailures {
                next.status = "paused"
                next.pausedReason = "paused after \(next.consecutiveFailures) failed runs in a row: \(error)"
            }
        }
        return next
    }

    /// What an edit that sets `status` does to the count and the schedule.
    public struct Edit: Sendable, Equatable {
        /// The count of failures starts at 0 and the next run is the schedule's first.
        public var restarts: Bool
        /// An active feed has no paused reason.
        public var clearsReason: Bool

        public init(restarts: Bool, clearsReason: Bool) {
            self.restarts = restarts
            self.clearsReason = clearsReason
        }
    }

    public func editing(to status: String, scheduleChanged: Bool) -> Edit {
        Edit(restarts: status == "active" && (self.status != "active" || scheduleChanged), clearsReason: status == "active")
    }
}

/// When a feed runs: every N hours, or daily at HH:MM in the feed's time zone.
public struct SpendFeedSchedule: Sendable, Equatable {
    public var everyHours: Int?
    public var dailyAt: String?
    public var zone: String

    public init(everyHours: Int?, dailyAt: String?, zone: String) {
        self.everyHours = everyHours
        self.dailyAt = dailyAt
        self.zone = zone
    }

    /// A new (or resumed, or rescheduled) feed's first run: at once for `every_hours`, at the
    /// next HH:MM otherwise.
    public func firstRun(after date: Date) -> Date {
        everyHours == nil ? nextDaily(after: date) : date
    }

    /// The run after a scheduled one (whether it failed or not).
    public func nextRun(after date: Date) -> Date {
        if let hours = everyHours { return date.addingTimeInterval(Double(hours) * 3600) }
        return nextDaily(after: date)
    }

    private func nextDaily(after date: Date) -> Date {
        let parts = (dailyAt ?? "06:00").split(separator: ":").compactMap { Int($0) }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone) ?? TimeZone(identifier: "UTC")!
        return calendar.nextDate(
            after: date, matching: DateComponents(hour: parts.first ?? 6, minute: parts.last ?? 0), matchingPolicy: .nextTime)
            ?? date.addingTimeInterval(86400)
    }
}
