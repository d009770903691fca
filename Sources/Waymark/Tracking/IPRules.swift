import Foundation

/// IPv4 CIDR ranges (`10.0.0.0/8`), for the bot address list and trusted proxies.
public struct IPRanges: Sendable {
    struct Range: Sendable {
        var base: UInt32
        var mask: UInt32
    }

    let ranges: [Range]
    let exact: Set<String>

    /// `spec` is a comma list of IPv4 CIDRs or single addresses (IPv6 addresses: exact only).
    public init(_ spec: String) {
        var ranges: [Range] = []
        var exact = Set<String>()
        for item in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: "/")
            if parts.count == 2, let base = IPRanges.ipv4(String(parts[0])), let bits = Int(parts[1]), (0...32).contains(bits) {
                let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << UInt32(32 - bits)
                ranges.append(Range(base: base & mask, mask: mask))
            } else {
                exact.insert(String(item))
            }
        }
        self.ranges = ranges
        self.exact = exact
    }

    public var isEmpty: Bool { ranges.isEmpty && exact.isEmpty }

    public func contains(_ address: String) -> Bool {
        if exact.contains(address) { return true }
        guard !ranges.isEmpty, let ip = IPRanges.ipv4(address) else { return false }
        return ranges.contains { ip & $0.mask == $0.base }
    }

    static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var value: UInt32 = 0
        for o in octets {
            guard let n = UInt32(o), n <= 255 else { return nil }
            value = value << 8 | n
        }
        return value
    }
}
