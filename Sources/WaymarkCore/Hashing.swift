import Crypto

/// Compares two byte strings in time that depends only on their length.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in a.indices { diff |= a[i] ^ b[i] }
    return diff == 0
}

/// SHA-256 as lower-case hex (API tokens and session ids are stored this way, never raw).
public func sha256Hex(_ text: String) -> String {
    Hex.encode(SHA256.hash(data: Array(text.utf8)))
}
