import Foundation
import HTTPClient

/// The worker's fetch of the ECB's euro reference rates (docs/operations.md, "FX rates"): once
/// a day (the daily file; the 90-day file until one fetch has succeeded), through the outbound
/// policy with a timeout and a size cap; a failure is retried after half an hour and shown on
/// the FX and Status pages. Rates imported by hand stay (a day's rate is replaced by a newer
/// import of the same day, by hand or fetched).
public struct FXFetcher: Sendable {
    public let state: FXFetchStore
    public let rates: FXStore
    public let outbound: OutboundPolicy
    /// Empty: the fetch is off (`WAYMARK_FX_URL=off`).
    public let dailyURL: String
    public let historyURL: String
    public static let maxBytes = 8 << 20
    /// A success is good for 20 hours (the ECB publishes once a working day, around 16:00 CET).
    public static let every = 20 * 3600
    public static let retryAfterFailure = 1800

    public init(state: FXFetchStore, rates: FXStore, outbound: OutboundPolicy, dailyURL: String, historyURL: String) {
        self.state = state
        self.rates = rates
        self.outbound = outbound
        self.dailyURL = dailyURL
        self.historyURL = historyURL
    }

    /// Fetches when due and this worker holds the claim; the outcome for the log, nil when
    /// nothing was due.
    public func runDue() -> (url: String, stored: Int, error: String?)? {
        guard !dailyURL.isEmpty,
            let claim = try? state.claim(every: FXFetcher.every, retry: FXFetcher.retryAfterFailure), claim.claimed
        else { return nil }
        let url = claim.first && !historyURL.isEmpty ? historyURL : dailyURL
        let shown = Redaction.withoutQuery(url)
        var stored = 0
        var failure: String?
        do {
            stored = try rates.store(try fetch(url), source: "ECB (fetched)")
        } catch let error as FXImportError {
            failure = "\(shown): \(error.description)"
        } catch {
            failure = "\(shown): \(error)"
        }
        let message = failure.map { String($0.prefix(500)) }
        try? state.finish(url: shown, stored: stored, error: message)
        return (shown, stored, message)
    }

    func fetch(_ url: String) throws -> [FXRate] {
        let request = HTTPRequest(
            method: "GET", url: url, headers: [("User-Agent", "Waymark/1.0 (FX rates)")], connectTimeout: 5, timeout: 30,
            maxResponseBytes: FXFetcher.maxBytes)
        let response = try outbound.send(request)
        guard response.status == 200 else { throw FXImportError("the server answered HTTP \(response.status)") }
        return try FXFile.parseECB(Data(response.body))
    }
}
