import Foundation

/// Which arm of a split test (a path's landers, or its offers) has the highest conversion rate.
/// Each arm's rate gets the posterior Beta(1 + conversions, 1 + trials − conversions) of a
/// uniform prior; the probability that an arm is best is the share of joint Monte Carlo draws
/// in which its rate is the highest. The generator has a fixed seed, so the same data give the
/// same figures on every view.
public struct SplitTest: Sendable {
    public struct Arm: Sendable, Equatable {
        public var conversions: Int
        /// Lander views for a lander, clicks for an offer.
        public var trials: Int

        public init(conversions: Int, trials: Int) {
            self.conversions = conversions
            self.trials = trials
        }
    }

    /// An arm at or above this probability has won the test.
    public static let decidedAt = 0.95

    public var arms: [Arm]
    public var draws: Int
    public var seed: UInt64

    public init(arms: [Arm], draws: Int = 20_000, seed: UInt64 = 0x5EED_0018) {
        self.arms = arms
        self.draws = draws
        self.seed = seed
    }

    /// P(arm i's rate is the highest), one per arm, summing to 1 (empty without arms).
    public func probabilities() -> [Double] {
        guard arms.count > 1 else { return arms.map { _ in 1 } }
        var rng = SplitMix64(seed: seed)
        // More conversions than trials (bots, attribution by time) cannot be a rate above 1.
        let shapes = arms.map { arm -> (Double, Double) in
            let successes = max(0, min(arm.conversions, arm.trials))
            return (1 + Double(successes), 1 + Double(arm.trials - successes))
        }
        var wins = [Int](repeating: 0, count: arms.count)
        for _ in 0..<max(1, draws) {
            var best = 0
            var bestRate = -1.0
            for (i, shape) in shapes.enumerated() {
                let rate = Self.beta(shape.0, shape.1, &rng)
                if rate > bestRate {
                    best = i
                    bestRate = rate
                }
            }
            wins[best] += 1
        }
        return wins.map { Double($0) / Double(max(1, draws)) }
    }

    /// The arm that has won (its probability at least `decidedAt`), if any.
    public static func winner(_ probabilities: [Double]) -> Int? {
        probabilities.firstIndex { $0 >= decidedAt }
    }

    /// A Beta(a, b) draw as X / (X + Y) of two Gamma draws.
    public static func beta(_ a: Double, _ b: Double, _ rng: inout SplitMix64) -> Double {
        let x = gamma(a, &rng)
        let y = gamma(b, &rng)
        return x / (x + y)
    }

    /// A Gamma(shape, 1) draw by Marsaglia and Tsang (2000); below shape 1 by the boost
    /// Gamma(shape + 1) · U^(1/shape).
    public static func gamma(_ shape: Double, _ rng: inout SplitMix64) -> Double {
        if shape < 1 { return gamma(shape + 1, &rng) * pow(rng.unit(), 1 / shape) }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            let x = normal(&rng)
            let t = 1 + c * x
            guard t > 0 else { continue }
            let v = t * t * t
            let u = rng.unit()
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A standard normal draw (Box–Muller).
    public static func normal(_ rng: inout SplitMix64) -> Double {
        (-2 * log(rng.unit())).squareRoot() * cos(2 * Double.pi * rng.unit())
    }
}

/// SplitMix64 (Steele, Lea and Flood 2014): small, fast, and the same sequence for a seed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in the open interval (0, 1): never 0, so its logarithm is finite.
    public mutating func unit() -> Double { (Double(next() >> 11) + 0.5) / 9_007_199_254_740_992 }
}
