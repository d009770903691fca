import Crypto
import CryptoExtras
import Foundation
import WaymarkCore
import Web

/// scrypt password hashes: `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64url). The cost is
/// in the string, so it can rise later without breaking stored hashes.
public enum PasswordHasher {
    public static let defaultLogN = 15
    public static let blockSize = 8
    public static let parallelism = 1

    /// At most this many derivations at once (32 MiB and ~0.1 s of a core each): a burst of
    /// logins waits its turn, up to 10 s, then gets a 503, instead of taking the memory.
    public static let slots = DispatchSemaphore(
        value: max(1, ProcessInfo.processInfo.environment["WAYMARK_PASSWORD_HASH_CONCURRENCY"].flatMap { Int($0) } ?? 4))

    public static func limited<T>(_ body: () throws -> T) throws -> T {
        guard slots.wait(timeout: .now() + 10) == .success else {
            throw HTTPError.unavailable("too many sign-ins at once; try again in a moment")
        }
        defer { slots.signal() }
        return try body()
    }

    public static func hash(_ password: String, logN: Int = defaultLogN) throws -> String {
        let salt = RandomToken.bytes(16)
        let key = try derive(password, salt: salt, logN: logN, r: blockSize, p: parallelism)
        return "scrypt$\(logN)$\(blockSize)$\(parallelism)$\(Base64URL.encode(salt))$\(Base64URL.encode(key))"
    }

    public static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
            (10...20).contains(logN), let salt = Base64URL.decode(parts[4]), let expected = Base64URL.decode(parts[5]),
            let actual = try? derive(password, salt: salt, logN: logN, r: r, p: p, length: expected.count)
        else { return false }
        return constantTimeEqual(actual, expected)
    }

    /// Does the work of a verification, so an unknown e-mail takes as long as a wrong password.
    public static func burn(_ password: String) {
        _ = try? derive(password, salt: [UInt8](repeating: 0, count: 16), logN: defaultLogN, r: blockSize, p: parallelism)
    }

    public static func derive(_ password: String, salt: [UInt8], logN: Int, r: Int, p: Int, length: Int = 32) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: length, rounds: 1 << logN, blockSize: r,
            parallelism: p, maxMemory: 256 << 20)
        return key.withUnsafeBytes { Array($0) }
    }
}
