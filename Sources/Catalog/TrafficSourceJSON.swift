import Foundation
import Web

/// The API's view of a traffic source (docs/api.md).
public struct TrafficSourceJSON: Encodable, Sendable {
    public struct Parameter: Encodable, Sendable {
        public var name: String
        public var token: String
    }

    public struct Postback: Encodable, Sendable {
        public var enabled: Bool
        @Nullable public var url: String?
        public var send: String
        public var events: [String]
        public var reversals: Bool
        public var payoutPercent: String
    }

    public var id: Int64
    public var name: String
    @Nullable public var workspaceId: Int64?
    @Nullable public var template: String?
    public var costCurrency: String
    @Nullable public var clickIdParam: String?
    public var parameters: [Parameter]
    public var postback: Postback
    @Nullable public var capiIntegrationId: Int64?
    public var notes: String
    public var createdAt: Date
    /// Only in the answers of a create or an update.
    public var warnings: [String]?

    public init(_ s: TrafficSource, warnings: [String]? = nil) {
        id = s.id
        name = s.name
        workspaceId = s.workspaceID
        template = s.template
        costCurrency = s.costCurrency
        clickIdParam = s.clickIDParam
        parameters = s.parameters.map { Parameter(name: $0.name, token: $0.token) }
        postback = Postback(
            enabled: s.postbackEnabled, url: s.postbackURL, send: s.sendBack.send, events: s.sendBack.events,
            reversals: s.sendBack.reversals, payoutPercent: s.payoutPercent)
        capiIntegrationId = s.capiIntegrationID
        notes = s.notes
        createdAt = s.createdAt
        self.warnings = warnings
    }
}
