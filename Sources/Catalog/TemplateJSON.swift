import Web

/// The API's view of a template of the library (docs/api.md, `GET /api/v1/templates`).
public struct TemplateJSON: Encodable, Sendable {
    public var key: String
    public var name: String
    @Nullable public var clickIdParam: String?
    public var parameters: [TemplateLibrary.Parameter]
    @Nullable public var postbackUrl: String?
    /// Free-form: the platform's own placeholder names (`YOUR_AID`) stay as they are.
    public var postbackPlaceholders: [String: String]
    @Nullable public var capi: String?
    public var capiSupported: Bool
    public var verified: Bool

    public init(_ t: TemplateLibrary.Template) {
        key = t.key
        name = t.name
        clickIdParam = t.clickIdParam
        parameters = t.parameters
        postbackUrl = t.postbackUrl
        postbackPlaceholders = t.postbackPlaceholders
        capi = t.capi
        capiSupported = t.capi != nil
        verified = t.verified
    }
}
