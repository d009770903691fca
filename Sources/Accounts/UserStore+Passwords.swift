import Foundation
import Postgres
import WaymarkCore
import Web

extension UserStore {
    /// Longer passwords are refused before hashing (bounded work per request).
    public static let maxPasswordBytes = 1024

    static func checkNewPassword(_ password: String, field: String = "new_password") throws {
        guard password.count >= 8 else { throw AccountError("the password needs at least 8 characters", field: field) }
        guard password.utf8.count <= maxPasswordBytes else {
            throw AccountError("the password is too long (at most 1024 bytes)", field: field)
        }
    }

    /// A signed-in user changes their own password: the current one must be right; every other
    /// session of theirs ends (the one making the change, `keepingSession`, stays).
    public func changePassword(by actor: Actor, current: String, new: String, keepingSession cookieValue: String?) throws {
        guard current.utf8.count <= UserStore.maxPasswordBytes,
            let row = try database.query("SELECT password_hash FROM users WHERE id = \(actor.userID) AND disabled_at IS NULL").first,
            let hash = row["password_hash"],
            try PasswordHasher.limited({ PasswordHasher.verify(current, against: hash) })
        else { throw AccountError("the current password is not right", field: "current_password") }
        try UserStore.checkNewPassword(new)
        guard new != current else { throw AccountError("the new password is the current one", field: "new_password") }
        try setPassword(actor.userID, to: new, keepingSession: cookieValue) { c in
            try AuditLog.record(c, actor: actor, action: "change_password", objectType: "user", objectID: actor.userID)
        }
    }

    /// An owner resets another user's password to a generated one, returned to be shown once;
    /// all of that user's sessions end.
    public func resetPassword(_ id: Int64, by actor: Actor) throws -> String {
        try actor.requireOwner()
        guard let user = try get(id) else { throw HTTPError.notFound("no user \(id)") }
        if user.id == actor.userID { throw HTTPError.conflict("change your own password on your Account page") }
        let password = UserStore.generatedPassword()
        try setPassword(id, to: password, keepingSession: nil) { c in
            try AuditLog.record(c, actor: actor, action: "reset_password", objectType: "user", objectID: id, new: ["email": user.email])
        }
        return password
    }

    /// `waymark user set-password`: the machine's admin sets a password by e-mail; all of the
    /// user's sessions end. Returns the user's id.
    @discardableResult
    public func setPassword(email: String, to password: String) throws -> Int64 {
        try UserStore.checkNewPassword(password, field: "password")
        guard let row = try database.query("SELECT id FROM users WHERE lower(email) = lower(\(email))").first else {
            throw AccountError("no user with e-mail \(email)")
        }
        let id: Int64 = try row.decode("id")
        try setPassword(id, to: password, keepingSession: nil) { _ in }
        return id
    }

    /// Twenty characters from a 56-letter alphabet without look-alikes (about 116 bits).
    public static func generatedPassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &rng)! })
    }

    private func setPassword(
        _ id: Int64, to password: String, keepingSession cookieValue: String?, audit: (PostgresConnection) throws -> Void
    ) throws {
        let hash = try PasswordHasher.limited { try PasswordHasher.hash(password) }
        try database.transaction { c in
            try c.query("UPDATE users SET password_hash = \(hash), updated_at = now() WHERE id = \(id)")
            try sessions.deleteAll(userID: id, except: cookieValue, on: c)
            try audit(c)
        }
    }
}
