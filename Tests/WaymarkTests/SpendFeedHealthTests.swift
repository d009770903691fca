import Foundation
import Spend
import Testing

/// The spend-feed pause rule and schedule as values: every branch, no database.
@Suite struct SpendFeedHealthTests {
    let active = SpendFeedHealth(status: "active", consecutiveFailures: 0, maxFailures: 3, pausedReason: nil)

    @Test func aFailureCountsOneMoreAndKeepsTheFeedActiveBelowTheLimit() {
        let after = active.recording(.failed("HTTP 500"))
        #expect(after == SpendFeedHealth(status: "active", consecutiveFailures: 1, maxFailures: 3, pausedReason: nil))
    }

    @Test func theFailureThatReachesTheLimitPausesWithWhy() {
        var health = active
        for _ in 0..<3 { health = health.recording(.failed("HTTP 500 from https://network.example/stats")) }
        #expect(health.status == "paused")
        #expect(health.consecutiveFailures == 3)
        #expect(health.pausedReason == "paused after 3 failed runs in a row: HTTP 500 from https://network.example/stats")
    }

    @Test func aFailureOfAPausedFeedPastTheLimitNamesTheNewCountAndError() {
        let paused = SpendFeedHealth(status: "paused", consecutiveFailures: 3, maxFailures: 3, pausedReason: "paused after 3 …")
        let after = paused.recording(.failed("timeout"))
        #expect(after.status == "paused")
        #expect(after.pausedReason == "paused after 4 failed runs in a row: timeout")
    }

    @Test func aFailureOfAFeedPausedByHandBelowTheLimitKeepsItsReason() {
        let paused = SpendFeedHealth(status: "paused", consecutiveFailures: 0, maxFailures: 5, pausedReason: nil)
        #expect(
            paused.recording(.failed("timeout"))
                == SpendFeedHealth(status: "paused", consecutiveFailures: 1, maxFailures: 5, pausedReason: nil))
    }

    @Test func aSuccessClearsTheCountButDoesNotResume() {
        let paused = SpendFeedHealth(status: "paused", consecutiveFailures: 4, maxFailures: 4, pausedReason: "paused after 4 …")
        #expect(
            paused.recording(.succeeded)
                == SpendFeedHealth(status: "paused", consecutiveFailures: 0, maxFailures: 4, pausedReason: "paused after 4 …"))
        #expect(active.recording(.failed("x")).recording(.succeeded) == active)
    }

    @Test func resumingRestartsTheCountAndScheduleAndClearsTheReason() {
        let paused = SpendFeedHealth(status: "paused", consecutiveFailures: 4, maxFailures: 4, pausedReason: "paused after 4 …")
        #expect(paused.editing(to: "active", scheduleChanged: false) == .init(restarts: true, clearsReason: true))
    }

    @Test func aNewScheduleOfAnActiveFeedRestartsIt() {
        #expect(active.editing(to: "active", scheduleChanged: true) == .init(restarts: true, clearsReason: true))
        #expect(active.editing(to: "active", scheduleChanged: false) == .init(restarts: false, clearsReason: true))
    }

    @Test func pausingOrStayingPausedRestartsNothing() {
        #expect(active.editing(to: "paused", scheduleChanged: true) == .init(restarts: false, clearsReason: false))
        let paused = SpendFeedHealth(status: "paused", consecutiveFailures: 2, maxFailures: 4, pausedReason: "why")
        #expect(paused.editing(to: "paused", scheduleChanged: false) == .init(restarts: false, clearsReason: false))
    }

    // MARK: schedule

    let noon = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18 (UTC), some time of day

    @Test func everyHoursRunsAtOnceFirstThenEveryNHours() {
        let schedule = SpendFeedSchedule(everyHours: 6, dailyAt: nil, zone: "UTC")
        #expect(schedule.firstRun(after: noon) == noon)
        #expect(schedule.nextRun(after: noon) == noon.addingTimeInterval(6 * 3600))
    }

    @Test func dailyRunsAtTheNextHourAndMinuteInTheFeedsZone() throws {
        let schedule = SpendFeedSchedule(everyHours: nil, dailyAt: "06:30", zone: "Europe/Berlin")
        let first = schedule.firstRun(after: noon)
        #expect(first == schedule.nextRun(after: noon))
        #expect(first > noon && first <= noon.addingTimeInterval(86400))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let parts = calendar.dateComponents([.hour, .minute, .second], from: first)
        #expect(parts.hour == 6 && parts.minute == 30 && parts.second == 0)
    }

    @Test func anUnknownZoneIsUTCAndNoTimeIsSixOClock() throws {
        let schedule = SpendFeedSchedule(everyHours: nil, dailyAt: nil, zone: "Mars/Olympus")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        let parts = calendar.dateComponents([.hour, .minute], from: schedule.nextRun(after: noon))
        #expect(parts.hour == 6 && parts.minute == 0)
    }
}
