import Glibc

/// IPv4 and IPv6 CIDR ranges (`10.0.0.0/8`, `fe80::/10`) and single addresses: the bot address
/// list, trusted proxies and the outbound deny and allow lists. IPv4 is kept as IPv4-mapped
/// IPv6, so `::ffff:127.0.0.1` is in `127.0.0.0/8`.
public struct IPRanges: Sendable {
    struct Range: Sendable {
        var base: [UInt8]
        var bits: Int
    }

    let ranges: [Range]

    /// `spec` is a comma list of CIDRs or single addresses; entries that are neither are skipped.
    public init(_ spec: String) {
        var ranges: [Range] = []
        for item in spec.split(separator: ",") {
            let trimmed = item.filter { $0 != " " && $0 != "\t" }
            guard !trimmed.isEmpty else { continue }
            let parts = trimmed.split(separator: "/", maxSplits: 1)
            guard let (bytes, isV4) = IPRanges.parse(String(parts[0])) else { continue }
            let maxBits = isV4 ? 32 : 128
            var bits = maxBits
            if parts.count == 2 {
                guard let b = Int(parts[1]), (0...maxBits).contains(b) else { continue }
                bits = b
            }
            ranges.append(Range(base: bytes, bits: bits + (isV4 ? 96 : 0)))
        }
        self.ranges = ranges
    }

    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ address: String) -> Bool {
        guard !ranges.isEmpty, let (bytes, _) = IPRanges.parse(address) else { return false }
        return contains(bytes: bytes)
    }

    /// `bytes`: 16 bytes of an IPv6 address (IPv4 as IPv4-mapped).
    public func contains(bytes: [UInt8]) -> Bool {
        bytes.count == 16 && ranges.contains { IPRanges.matches(bytes, $0.base, bits: $0.bits) }
    }

    static func matches(_ a: [UInt8], _ b: [UInt8], bits: Int) -> Bool {
        var left = bits
        var i = 0
        while left >= 8 {
            if a[i] != b[i] { return false }
            left -= 8
            i += 1
        }
        guard left > 0 else { return true }
        let mask = UInt8(0xFF) << UInt8(8 - left)
        return a[i] & mask == b[i] & mask
    }

    /// 16 bytes (IPv4 as `::ffff:a.b.c.d`) and whether the text was IPv4.
    public static func parse(_ text: String) -> ([UInt8], Bool)? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            let b = withUnsafeBytes(of: v4.s_addr) { Array($0) }
            return ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + b, true)
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return (withUnsafeBytes(of: v6) { Array($0) }, false)
        }
        return nil
    }

    /// The IPv4 address an IPv6 address carries in its low 32 bits, as IPv4-mapped bytes:
    /// IPv4-compatible (`::a.b.c.d`, deprecated) and NAT64 (`64:ff9b::/96`) forms, which reach
    /// that IPv4 address on hosts that route them. Nil for any other address.
    public static func embeddedIPv4(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.count == 16 else { return nil }
        let compatible =
            bytes[0..<12].allSatisfy { $0 == 0 } && bytes[12..<16].contains { $0 != 0 } && !(bytes[12..<15].allSatisfy { $0 == 0 })
        let nat64 = bytes[0..<12].elementsEqual([0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0])
        guard compatible || nat64 else { return nil }
        return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] + bytes[12..<16]
    }
}
