import Foundation
import Web

/// The API's view of a lander (docs/api.md).
public struct LanderJSON: Encodable, Sendable {
    public var id: Int64
    public var name: String
    @Nullable public var workspaceId: Int64?
    public var url: String
    public var offersCount: Int
    public var status: String
    public var createdAt: Date

    public init(_ l: Lander) {
        id = l.id
        name = l.name
        workspaceId = l.workspaceID
        url = l.url
        offersCount = l.offersCount
        status = l.status
        createdAt = l.createdAt
    }
}
