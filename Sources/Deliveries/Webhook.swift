/// A workspace's webhook: conversions are POSTed to its URL, signed with its secret.
public struct Webhook: Sendable {
    public var id: Int64
    public var workspaceID: Int64
    /// The workspace's name (empty where the caller did not ask for it).
    public var workspaceName: String
    public var url: String
    public var secret: String
    public var enabled: Bool
}
