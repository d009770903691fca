import Foundation
import WaymarkCore
import Web

/// A lander: a page between the ad and the offer, whose links go to `/click` … `/click/{offersCount}`.
public struct Lander: Sendable, Equatable {
    public var id: Int64
    public var workspaceID: Int64?
    public var name: String
    public var url: String
    /// How many offer links the page has (1…20).
    public var offersCount: Int
    public var status: String
    public var createdAt: Date
    public var updatedAt: Date

    public static let maxOffers = 20

    public init(
        id: Int64, workspaceID: Int64?, name: String, url: String, offersCount: Int, status: String, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.workspaceID = workspaceID
        self.name = name
        self.url = url
        self.offersCount = offersCount
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What an API body sets on a lander, before it is stored.
public struct LanderDraft: Sendable, Equatable {
    public var name = ""
    public var workspaceID: Int64?
    public var url = ""
    public var offersCount = 1
    public var status = "active"

    public init() {}

    public init(_ lander: Lander) {
        name = lander.name
        workspaceID = lander.workspaceID
        url = lander.url
        offersCount = lander.offersCount
        status = lander.status
    }

    /// Applies the JSON fields that are present; type errors go to `reader`.
    public mutating func apply(_ reader: inout FieldReader) {
        if let v = reader.string("name") { name = v }
        if let v = reader.int64("workspace_id") { workspaceID = v }
        if let v = reader.string("url") { url = v.trimmingCharacters(in: .whitespaces) }
        if let v = reader.int64("offers_count") {
            if let n = v, (1...Int64(Lander.maxOffers)).contains(n) {
                offersCount = Int(n)
            } else {
                reader.fail("offers_count", "must be a whole number from 1 to \(Lander.maxOffers)")
            }
        }
        if let v = reader.string("status") { status = v }
    }

    /// Field errors (→ 422), every bad field at once.
    public func check() -> [String: String] {
        var errors = FlowTargetFields.errors(name: name, url: url, status: status)
        if !(1...Lander.maxOffers).contains(offersCount) {
            errors["offers_count"] = "must be a whole number from 1 to \(Lander.maxOffers)"
        }
        return errors
    }
}
