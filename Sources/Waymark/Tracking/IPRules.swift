import Foundation
import Glibc

/// IPv4 and IPv6 CIDR ranges (`10.0.0.0/8`, `fe80::/10`) and single addresses: the bot address
/// list, trusted proxies and the outbound deny list. IPv4 is kept as IPv4-mapped IPv6.
public struct IPRanges: Sendable {
    struct Range: Sendable {
        var base: [UInt8]
        var bits: Int
    }

    let ranges: [Range]

    /// `spec` is a comma list of CIDRs or single addresses; entries that are neither are skipped.
    public init(_ spec: String) {
        var ranges: [Range] = []
        for item in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "/", maxSplits: 1)
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
        return ranges.contains { IPRanges.matches(bytes, $0.base, bits: $0.bits) }
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
    static func parse(_ text: String) -> ([UInt8], Bool)? {
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
}
