/// An event a postback can name (`conversion`, `lead`, `sale`, …): created on its first
/// postback, named and counted here by the admins.
public struct ConversionEvent: Sendable {
    public var id: Int64
    public var workspaceID: Int64?
    /// The workspace's name, or "Public".
    public var workspaceName: String
    public var key: String
    public var name: String
    public var countsAsConversion: Bool
    public var countsAsRevenue: Bool
}
