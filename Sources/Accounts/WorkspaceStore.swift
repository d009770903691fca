import Foundation
import Postgres
import WaymarkCore
import Web

/// A workspace keeps a client's (or a team's) traffic sources apart: its own time zone,
/// reporting currency and postback secret.
public struct Workspace: Sendable, Encodable {
    public var id: Int64
    public var name: String
    public var timezone: String
    public var currency: String
    public var postbackSecret: String?
    public var createdAt: Date

    public var auditValues: [String: Any] {
        ["name": name, "timezone": timezone, "currency": currency, "postback_secret": postbackSecret == nil ? "(none)" : "(set)"]
    }
}

/// What a form or a JSON body may set on a workspace.
public struct WorkspaceInput: Sendable, Decodable {
    public var name: String?
    public var timezone: String?
    public var currency: String?
    public var postbackSecret: String?

    public init(name: String? = nil, timezone: String? = nil, currency: String? = nil, postbackSecret: String? = nil) {
        self.name = name
        self.timezone = timezone
        self.currency = currency
        self.postbackSecret = postbackSecret
    }

    /// Field errors; `partial` (PATCH) only checks what is present.
    public func validate(partial: Bool) -> [String: String] {
        var errors: [String: String] = [:]
        let name = self.name?.trimmingCharacters(in: .whitespaces)
        if let name {
            if name.isEmpty { errors["name"] = "is required" } else if name.count > 100 { errors["name"] = "is longer than 100 characters" }
        } else if !partial {
            errors["name"] = "is required"
        }
        if let timezone, !WorkspaceInput.isZoneName(timezone) {
            errors["timezone"] = "is not a time zone name like Europe/Berlin"
        }
        if let currency, !Currency.isKnown(currency) { errors["currency"] = "is not an ISO 4217 currency code" }
        if let secret = postbackSecret, !secret.isEmpty, secret.count < 8 || secret.count > 128 {
            errors["postback_secret"] = "needs 8 to 128 characters (or leave it empty)"
        }
        return errors
    }

    /// An IANA zone name PostgreSQL knows. Linux Foundation's list lacks some current names
    /// (`Asia/Kolkata`, `Etc/UTC`), so a name it does not list counts when the system's zone
    /// database (the one PostgreSQL reads) has it.
    public static func isZoneName(_ zone: String) -> Bool {
        guard TimeZone(identifier: zone) != nil else { return false }
        if zone == "UTC" || TimeZone.knownTimeZoneIdentifiers.contains(zone) { return true }
        let plain = zone.utf8.allSatisfy { ASCII.isAlphanumeric($0) || "/_+-".utf8.contains($0) }
        return plain && zone.contains("/") && !zone.contains("..") && FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/" + zone)
    }
}

public struct WorkspaceStore: Sendable {
    public let database: PostgresPool

    public init(database: PostgresPool) { self.database = database }

    public static func decode(_ row: PostgresRow) throws -> Workspace {
        Workspace(
            id: try row.decode("id"), name: try row.decode("name"), timezone: try row.decode("timezone"),
            currency: try row.decode("currency"), postbackSecret: try row.decode("postback_secret", as: String?.self),
            createdAt: try row.decode("created_at"))
    }

    /// Workspaces the actor belongs to (all of them for admins and owners).
    public func list(for actor: Actor) throws -> [Workspace] {
        try database.query(
            """
            SELECT id, name, timezone, currency, postback_secret, created_at FROM workspaces
            WHERE \(fragment: actor.visibleWorkspaces("id")) ORDER BY lower(name)
            """
        ).map(WorkspaceStore.decode)
    }

    /// One workspace, or 404 when it does not exist for this actor.
    public func get(_ id: Int64, for actor: Actor) throws -> Workspace {
        try actor.requireVisible(workspace: id)
        guard
            let row = try database.query(
                """
                SELECT id, name, timezone, currency, postback_secret, created_at FROM workspaces WHERE id = \(id)
                """
            ).first
        else { throw HTTPError.notFound("no workspace \(id)") }
        return try WorkspaceStore.decode(row)
    }

    public func create(_ input: WorkspaceInput, by actor: Actor) throws -> Workspace {
        try actor.requireAdmin()
        let errors = input.validate(partial: false)
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
        let secret = input.postbackSecret.flatMap { $0.isEmpty ? nil : $0 }
        return try database.transaction { c in
            let row: PostgresRow
            do {
                row = try c.query(
                    """
                    INSERT INTO workspaces (name, timezone, currency, postback_secret)
                    VALUES (\(input.name!.trimmingCharacters(in: .whitespaces)), \(input.timezone ?? "UTC"),
                            \(input.currency ?? "USD"), \(secret))
                    RETURNING id, name, timezone, currency, postback_secret, created_at
                    """
                ).first!
            } catch let error as PostgresError where error.isUniqueViolation {
                throw HTTPError.validation(["name": "is already taken by another workspace"])
            }
            let workspace = try WorkspaceStore.decode(row)
            try AuditLog.record(
                c, actor: actor, action: "create", objectType: "workspace", objectID: workspace.id, workspaceID: workspace.id,
                new: workspace.auditValues)
            return workspace
        }
    }

    public func update(_ id: Int64, _ input: WorkspaceInput, by actor: Actor) throws -> Workspace {
        let old = try get(id, for: actor)
        try actor.requireAdmin()
        let errors = input.validate(partial: true)
        guard errors.isEmpty else { throw HTTPError.validation(errors) }
        var new = old
        if let name = input.name { new.name = name.trimmingCharacters(in: .whitespaces) }
        if let timezone = input.timezone { new.timezone = timezone }
        if let currency = input.currency { new.currency = currency }
        if let secret = input.postbackSecret { new.postbackSecret = secret.isEmpty ? nil : secret }
        return try database.transaction { c in
            do {
                try c.query(
                    """
                    UPDATE workspaces SET name = \(new.name), timezone = \(new.timezone), currency = \(new.currency),
                      postback_secret = \(new.postbackSecret), updated_at = now()
                    WHERE id = \(id)
                    """)
            } catch let error as PostgresError where error.isUniqueViolation {
                throw HTTPError.validation(["name": "is already taken by another workspace"])
            }
            try AuditLog.record(
                c, actor: actor, action: "update", objectType: "workspace", objectID: id, workspaceID: id, old: old.auditValues,
                new: new.auditValues)
            return new
        }
    }

    /// A workspace's postback secret, for callers that already checked the actor's access.
    public func postbackSecret(_ id: Int64) throws -> String? {
        try database.query("SELECT postback_secret FROM workspaces WHERE id = \(id)").first?["postback_secret"]
    }

    public struct Member: Sendable {
        public var userID: Int64
        public var email: String
        public var role: String
    }

    public func members(_ id: Int64) throws -> [Member] {
        try database.query(
            """
            SELECT u.id, u.email, u.role FROM workspace_members m JOIN users u ON u.id = m.user_id
            WHERE m.workspace_id = \(id) ORDER BY lower(u.email)
            """
        ).map { Member(userID: try $0.decode("id"), email: try $0.decode("email"), role: try $0.decode("role")) }
    }

    public func setMembership(_ id: Int64, email: String, member: Bool, by actor: Actor) throws {
        _ = try get(id, for: actor)
        try actor.requireAdmin()
        try database.transaction { c in
            guard let user = try c.query("SELECT id FROM users WHERE lower(email) = lower(\(email))").first else {
                throw HTTPError.validation(["email": "no user has this e-mail"])
            }
            let userID: Int64 = try user.decode("id")
            if member {
                try WorkspaceStore.addMember(id, userID: userID, on: c)
            } else {
                try WorkspaceStore.removeMember(id, userID: userID, on: c)
            }
            try AuditLog.record(
                c, actor: actor, action: member ? "add_member" : "remove_member", objectType: "workspace", objectID: id, workspaceID: id,
                new: ["user": email])
        }
    }
}
