/// Weighted draw over a path's landers or offers: cumulative sums built once, so a draw is one
/// random number and a binary search. Items that must be skipped at draw time (a capped offer)
/// are left out of a linear walk instead, without building anything.
struct FlowWeights: Sendable {
    /// Index of each drawable item in the path's list, its weight, and the running sum.
    let items: [Int]
    let weights: [Int]
    let cumulative: [Int]

    /// `entries`: (index in the path's list, weight); weights ≤ 0 are left out, and each is
    /// clamped so that no sum overflows.
    init(_ entries: [(index: Int, weight: Int)]) {
        let kept = entries.filter { $0.weight > 0 }
        items = kept.map(\.index)
        weights = kept.map { min($0.weight, 1 << 40) }
        var sum = 0
        cumulative = weights.map {
            sum += $0
            return sum
        }
    }

    var isEmpty: Bool { items.isEmpty }

    /// Whether some item is not skipped.
    func hasAny(skipping skip: (Int) -> Bool) -> Bool {
        items.contains { !skip($0) }
    }

    /// An item (its index in the path's list) drawn by weight among those not skipped; nil
    /// when none is left.
    func draw<G: RandomNumberGenerator>(skipping skip: (Int) -> Bool, using generator: inout G) -> Int? {
        guard let total = cumulative.last else { return nil }
        var available = total
        for (k, item) in items.enumerated() where skip(item) { available -= weights[k] }
        guard available > 0 else { return nil }
        var r = Int.random(in: 0..<available, using: &generator)
        if available == total {
            // The first running sum above r.
            var low = 0
            var high = cumulative.count - 1
            while low < high {
                let mid = (low + high) / 2
                if cumulative[mid] > r { high = mid } else { low = mid + 1 }
            }
            return items[low]
        }
        for (k, item) in items.enumerated() where !skip(item) {
            if r < weights[k] { return item }
            r -= weights[k]
        }
        return nil
    }
}
