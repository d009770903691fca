import Foundation

/// The traffic-source template library (`data/templates.json`): each ad platform's tracking
/// parameters (name → the platform's macro), click-id parameter, S2S postback URL and whether
/// it has a Conversion API. A template only pre-fills a new source; the source owns its copy.
public struct TemplateLibrary: Sendable {
    public struct Parameter: Codable, Sendable, Equatable {
        public var name: String
        public var token: String
        public var description: String
    }

    public struct Template: Codable, Sendable {
        public var key: String
        public var name: String
        public var clickIdParam: String?
        public var parameters: [Parameter]
        public var postbackUrl: String?
        /// Account values to fill into the postback URL (`YOUR_AID` → what it is).
        public var postbackPlaceholders: [String: String]
        public var capi: String?
        public var verified: Bool
        public var notes: String
        public var sources: [String]
    }

    private struct File: Decodable { var templates: [Template] }

    public let templates: [Template]
    private let byKey: [String: Template]

    public init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        templates = try decoder.decode(File.self, from: data).templates
        byKey = Dictionary(uniqueKeysWithValues: templates.map { ($0.key, $0) })
    }

    public func template(_ key: String) -> Template? { byKey[key] }

    /// Templates whose name or key contains `query` (case-insensitive); all for an empty query.
    public func search(_ query: String) -> [Template] {
        let q = query.trimmingCharacters(in: .whitespaces).lowercased()
        guard !q.isEmpty else { return templates }
        return templates.filter { $0.name.lowercased().contains(q) || $0.key.contains(q) }
    }
}
