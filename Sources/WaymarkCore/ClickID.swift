import Foundation

/// Click ids: 5 bytes of UTC seconds then 12 random bytes (96 bits), base64url → 23 URL-safe
/// characters. The time prefix lets a lookup by id go to that day's partition directly.
public enum ClickID {
    /// `entropy`: the 12 bytes after the time, random unless given (a click that nginx may
    /// send to a second responder gets the same id there, from its request id).
    public static func make(at date: Date, entropy: [UInt8]? = nil) -> String {
        let seconds = UInt64(max(0, date.timeIntervalSince1970))
        var bytes = (0..<5).reversed().map { UInt8(truncatingIfNeeded: seconds >> (8 * UInt64($0))) }
        bytes += entropy.flatMap { $0.count == 12 ? $0 : nil } ?? RandomToken.bytes(12)
        return Base64URL.encode(bytes)
    }

    /// The second the click was made, read back from the id (nil for a foreign id).
    public static func time(of id: String) -> Date? {
        guard id.count == 23, let bytes = Base64URL.decode(id), bytes.count == 17 else { return nil }
        let seconds = bytes.prefix(5).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Date(timeIntervalSince1970: Double(seconds))
    }
}
