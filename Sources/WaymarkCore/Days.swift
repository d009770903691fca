import Foundation

/// Days between two `YYYY-MM-DD` dates, inclusive, in order.
public func daysBetween(_ from: String, _ to: String) -> [String] {
    guard var day = Dates.parseDay(from), let end = Dates.parseDay(to) else { return [] }
    var out: [String] = []
    while day <= end {
        out.append(Dates.day(day))
        day = day.addingTimeInterval(86400)
    }
    return out
}
