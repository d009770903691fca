import Foundation
import Reports
import Testing

/// The split test's Beta-Binomial posteriors and their Monte Carlo P(best), without a database.
@Suite struct SplitTestTests {
    @Test func equalDataGiveEachOfTwoArmsAboutHalf() {
        let p = SplitTest(arms: [.init(conversions: 30, trials: 1000), .init(conversions: 30, trials: 1000)]).probabilities()
        #expect(p.count == 2)
        #expect(abs(p[0] - 0.5) < 0.02 && abs(p[1] - 0.5) < 0.02, "\(p)")
        #expect(SplitTest.winner(p) == nil)
    }

    @Test func aClearlyBetterArmIsDecided() {
        let p = SplitTest(arms: [.init(conversions: 100, trials: 1000), .init(conversions: 50, trials: 1000)]).probabilities()
        #expect(p[0] > 0.99, "\(p)")
        #expect(SplitTest.winner(p) == 0)
        // The order of the arms does not matter.
        let q = SplitTest(arms: [.init(conversions: 50, trials: 1000), .init(conversions: 100, trials: 1000)]).probabilities()
        #expect(q[1] > 0.99 && SplitTest.winner(q) == 1, "\(q)")
    }

    @Test func probabilitiesSumToOneAndRankTheArms() {
        let arms: [SplitTest.Arm] = [
            .init(conversions: 12, trials: 400), .init(conversions: 20, trials: 410), .init(conversions: 15, trials: 395),
        ]
        let p = SplitTest(arms: arms).probabilities()
        #expect(abs(p.reduce(0, +) - 1) < 1e-9, "\(p)")
        #expect(p[1] > p[2] && p[2] > p[0], "\(p)")
        // An arm with no data has a uniform rate: it is above ~5 % in about 95 % of the draws.
        let empty = SplitTest(arms: arms + [.init(conversions: 0, trials: 0)]).probabilities()
        #expect(abs(empty.reduce(0, +) - 1) < 1e-9)
        #expect(empty[3] > 0.9 && empty[3] < 0.97, "\(empty)")
    }

    @Test func theSameDataGiveTheSameFiguresAndEdgeCasesHold() {
        let arms: [SplitTest.Arm] = [.init(conversions: 3, trials: 40), .init(conversions: 5, trials: 41)]
        #expect(SplitTest(arms: arms).probabilities() == SplitTest(arms: arms).probabilities())
        #expect(SplitTest(arms: []).probabilities().isEmpty)
        #expect(SplitTest(arms: [.init(conversions: 1, trials: 2)]).probabilities() == [1])
        // More conversions than trials is read as every trial converting, not as a rate above 1.
        let over = SplitTest(arms: [.init(conversions: 9, trials: 5), .init(conversions: 0, trials: 5)]).probabilities()
        #expect(over[0] > 0.99, "\(over)")
    }

    /// The samplers' moments: Gamma(k) has mean k and variance k; Beta(a, b) mean a / (a + b).
    @Test func theSamplersHaveTheRightMoments() {
        var rng = SplitMix64(seed: 99)
        for shape in [0.5, 1.0, 3.0, 50.0] {
            let n = 40_000
            let xs = (0..<n).map { _ in SplitTest.gamma(shape, &rng) }
            let mean = xs.reduce(0, +) / Double(n)
            let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
            #expect(abs(mean - shape) / shape < 0.03, "shape \(shape): mean \(mean)")
            #expect(abs(variance - shape) / shape < 0.08, "shape \(shape): variance \(variance)")
        }
        let betas = (0..<40_000).map { _ in SplitTest.beta(3, 7, &rng) }
        #expect(abs(betas.reduce(0, +) / 40_000 - 0.3) < 0.005)
        #expect(betas.allSatisfy { $0 > 0 && $0 < 1 })
    }
}
