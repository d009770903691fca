import Crypto
import Foundation

/// Seals integration tokens and API secrets with AES-GCM under the installation's key, so
/// PostgreSQL (and its backups) never hold them in the clear. The key is
/// `WAYMARK_SECRET_KEY` (base64 of 32 bytes) or `var/secret.key`, made at set-up (mode 600).
public struct IntegrationSecrets: Sendable {
    public let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// `secretKey`: WAYMARK_SECRET_KEY if set; else `varDirectory/secret.key` (made if missing).
    public init(secretKey: String?, varDirectory: String) throws {
        if let text = secretKey {
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw IntegrationError("WAYMARK_SECRET_KEY must be base64 of 32 bytes")
            }
            key = SymmetricKey(data: data)
            return
        }
        let path = varDirectory + "/secret.key"
        if let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty {
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw IntegrationError("\(path) is not base64 of 32 bytes")
            }
            key = SymmetricKey(data: data)
            return
        }
        // Not made by the set-up (a CLI run elsewhere): make it now, readable by this user only.
        let fresh = SymmetricKey(size: .bits256)
        let encoded = fresh.withUnsafeBytes { Data($0).base64EncodedString() }
        let old = umask(0o077)
        defer { umask(old) }
        guard FileManager.default.createFile(atPath: path, contents: Data((encoded + "\n").utf8)) else {
            throw IntegrationError("cannot write \(path)")
        }
        key = fresh
    }

    /// base64 of nonce ‖ ciphertext ‖ tag.
    public func seal(_ text: String) throws -> String {
        try AES.GCM.seal(Data(text.utf8), using: key).combined!.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw IntegrationError("a sealed secret is not base64") }
        return String(decoding: try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: key), as: UTF8.self)
    }
}

public struct IntegrationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
