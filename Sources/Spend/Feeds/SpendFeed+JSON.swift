import Foundation
import Web

/// The API's view of a feed (docs/api.md): never a header value, and null for what is not set.
extension SpendFeed: Encodable {
    enum CodingKeys: String, CodingKey {
        case id, trafficSourceId, name, url, method, headers, format, jsonPath, dateFormat, timeZone, mapping, schedule
        case lookbackDays, timeoutSeconds, status, pausedReason, consecutiveFailures, maxFailures, nextRunAt, lastRunAt
    }

    enum MappingKeys: String, CodingKey {
        case date, campaign, campaignMatch, amount, currency, fixedCurrency, dimensions
    }

    enum ScheduleKeys: String, CodingKey {
        case everyHours, dailyAt
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(sourceID, forKey: .trafficSourceId)
        try c.encode(name, forKey: .name)
        try c.encode(url, forKey: .url)
        try c.encode(method, forKey: .method)
        try c.encode(headerNames.map { [$0: "(stored)"] }, forKey: .headers)
        try c.encode(format, forKey: .format)
        try c.encode(jsonPath, forKey: .jsonPath)
        try c.encode(dateFormat, forKey: .dateFormat)
        try c.encode(timeZone, forKey: .timeZone)
        var m = c.nestedContainer(keyedBy: MappingKeys.self, forKey: .mapping)
        try m.encode(mapping.date, forKey: .date)
        try m.encode(mapping.campaign, forKey: .campaign)
        try m.encode(mapping.campaignMatch, forKey: .campaignMatch)
        try m.encode(mapping.amount, forKey: .amount)
        try m.encode(mapping.currency, forKey: .currency)
        try m.encode(mapping.fixedCurrency, forKey: .fixedCurrency)
        try m.encode(mapping.dimensions, forKey: .dimensions)
        var s = c.nestedContainer(keyedBy: ScheduleKeys.self, forKey: .schedule)
        try s.encode(everyHours, forKey: .everyHours)
        try s.encode(dailyAt, forKey: .dailyAt)
        try c.encode(lookbackDays, forKey: .lookbackDays)
        try c.encode(timeoutSeconds, forKey: .timeoutSeconds)
        try c.encode(status, forKey: .status)
        try c.encode(pausedReason, forKey: .pausedReason)
        try c.encode(consecutiveFailures, forKey: .consecutiveFailures)
        try c.encode(maxFailures, forKey: .maxFailures)
        try c.encode(nextRunAt.map(RFC3339.string), forKey: .nextRunAt)
        try c.encode(lastRunAt.map(RFC3339.string), forKey: .lastRunAt)
    }
}
