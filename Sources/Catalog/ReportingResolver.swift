import Foundation
import Postgres

/// Resolves a campaign's conversion reporting: its own setting, or its traffic source's as the
/// source is now (so a change of the source reaches every inheriting campaign at once, for new
/// conversions; queued deliveries keep what they were rendered with). The rows come from
/// `CampaignStore.reporting(on:campaignID:explained:)`.
public enum ReportingResolver {
    /// The Conversion-API integration a campaign reports to, as the explanation needs it.
    public struct PushIntegration: Sendable {
        public var provider: String
        public var status: String
        public var sourceName: String
        /// Events the campaign receives with no enabled mapping (so not pushed).
        public var unmappedEvents: [String]

        public init(provider: String, status: String, sourceName: String, unmappedEvents: [String]) {
            self.provider = provider
            self.status = status
            self.sourceName = sourceName
            self.unmappedEvents = unmappedEvents
        }
    }

    /// The effective reporting from the campaign-and-source row (no description yet).
    public static func resolve(_ r: PostgresRow) throws -> EffectiveReporting {
        func events(_ column: String) -> [String] { (r[column] ?? "").split(separator: ",").map(String.init) }
        let sourceName = r["source_name"] ?? ""
        switch ConversionReporting.Method(rawValue: r["reporting"] ?? "source") ?? .source {
        case .source:
            let postback = try r.decode("postback_enabled", as: Bool.self) ? r["postback_url"].flatMap { $0.isEmpty ? nil : $0 } : nil
            return EffectiveReporting(
                postbackURL: postback, integrationID: try r.decode("capi_integration_id", as: Int64?.self),
                rules: SendBackRules(
                    send: r["postback_send"] ?? "all", events: events("s_events"), reversals: try r.decode("postback_reversals")),
                payoutPercent: r["s_percent"] ?? "100", from: "traffic_source", sourceName: sourceName, description: "", warnings: [])
        case .postback:
            return own(r, events: events("c_events"), postback: r["reporting_postback_url"], integration: nil, sourceName: sourceName)
        case .capi:
            return own(
                r, events: events("c_events"), postback: nil, integration: try r.decode("reporting_integration_id", as: Int64?.self),
                sourceName: sourceName)
        case .none:
            return own(r, events: [], postback: nil, integration: nil, sourceName: sourceName)
        }
    }

    /// The description and warnings the pages show.
    public static func explain(_ out: inout EffectiveReporting, integration: PushIntegration?) {
        var parts: [String] = []
        if let url = out.postbackURL { parts.append("S2S postback to \(url)") }
        if let i = integration {
            let label = "\(i.provider) on \(i.sourceName)"
            parts.append("Conversion API (\(label))")
            switch i.status {
            case "paused": out.warnings.append("The Conversion-API integration \(label) is paused: nothing is pushed until it resumes.")
            case "error": out.warnings.append("The Conversion-API integration \(label) needs reconnecting: nothing is pushed meanwhile.")
            case "active": break
            default: out.warnings.append("The Conversion-API integration \(label) is not connected: nothing is pushed.")
            }
            let unmapped = i.unmappedEvents
            if !unmapped.isEmpty {
                out.warnings.append(
                    "No enabled mapping on \(label) for the event\(unmapped.count == 1 ? "" : "s") \(unmapped.joined(separator: ", ")): "
                        + "those conversions are not pushed."
                )
            }
        }
        let what = parts.isEmpty ? "nothing is reported back" : parts.joined(separator: " and ")
        out.description =
            out.from == "traffic_source"
            ? "From traffic source \(out.sourceName): \(what)." : "This campaign's own setting: \(what)."
    }

    private static func own(_ r: PostgresRow, events: [String], postback: String?, integration: Int64?, sourceName: String)
        -> EffectiveReporting
    {
        EffectiveReporting(
            postbackURL: postback, integrationID: integration,
            rules: SendBackRules(send: r["reporting_send"] ?? "all", events: events, reversals: r["reporting_reversals"] == "t"),
            payoutPercent: r["c_percent"] ?? "100", from: "campaign", sourceName: sourceName, description: "", warnings: [])
    }
}
