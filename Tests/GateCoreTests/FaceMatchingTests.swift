import GateCore
import Testing

@Suite struct FaceIndexTests {
    func vector(_ seed: Int, dimension: Int = 128) -> [Float] {
        var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<dimension).map { _ in
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Float(state % 1000) / 1000 - 0.5
        }
    }

    @Test func euclideanNearestMatchesABruteForceScan() throws {
        var index = FaceIndex(dimension: 128, metric: .euclidean)
        for seed in 0..<300 { index.add(vector(seed), residentID: "r\(seed % 100)") }
        let probe = vector(4242)
        let match = try #require(index.nearest(to: probe))
        func distance(_ a: [Float], _ b: [Float]) -> Float {
            var sum: Float = 0
            for index in a.indices { sum += (a[index] - b[index]) * (a[index] - b[index]) }
            return sum.squareRoot()
        }
        let brute: [(id: String, distance: Float)] = (0..<300).map { seed in ("r\(seed % 100)", distance(vector(seed), probe)) }
            .sorted { $0.distance < $1.distance }
        #expect(match.residentID == brute[0].id)
        #expect(abs(match.distance - brute[0].distance) < 1e-4)
        let runnerUp = brute.first { $0.id != brute[0].id }!
        #expect(abs(match.runnerUpDistance - runnerUp.distance) < 1e-4)
    }

    @Test func cosineIgnoresScale() throws {
        var index = FaceIndex(dimension: 16, metric: .cosine)
        index.add(vector(1, dimension: 16), residentID: "a")
        index.add(vector(2, dimension: 16), residentID: "b")
        let match = try #require(index.nearest(to: vector(1, dimension: 16).map { $0 * 7 }))
        #expect(match.residentID == "a" && match.distance < 1e-5)
    }

    @Test func wrongDimensionsAreRefused() {
        var index = FaceIndex(dimension: 128, metric: .euclidean)
        let added = index.add([1, 2, 3], residentID: "a")
        #expect(!added)
        #expect(index.nearest(to: vector(1)) == nil)
        index.add(vector(1), residentID: "a")
        #expect(index.nearest(to: [1, 2]) == nil)
        #expect(index.nearest(to: vector(1))?.runnerUpDistance == .infinity)
    }
}

@Suite struct MatchAggregatorTests {
    var aggregator = MatchAggregator<T>(rules: MatchRules(threshold: 0.5, margin: 0.05, requiredAgreeing: 3, windowFrames: 5,
                                                          window: .seconds(2), cooldown: .seconds(5)))

    @Test func candidateNeedsThresholdAndMargin() {
        #expect(aggregator.candidate(for: .init(residentID: "a", distance: 0.4, runnerUpDistance: 0.9)) == "a")
        #expect(aggregator.candidate(for: .init(residentID: "a", distance: 0.55, runnerUpDistance: 0.9)) == nil)
        #expect(aggregator.candidate(for: .init(residentID: "a", distance: 0.40, runnerUpDistance: 0.43)) == nil,
                "two residents almost equally close: refuse rather than guess")
        #expect(aggregator.candidate(for: nil) == nil)
    }

    @Test mutating func threeAgreeingFramesMatchAndTheCooldownSuppressesRepeats() {
        #expect(aggregator.observe("a", at: .at(0)) == .pending)
        #expect(aggregator.observe(nil, at: .at(0.1)) == .pending)
        #expect(aggregator.observe("a", at: .at(0.2)) == .pending)
        #expect(aggregator.observe("a", at: .at(0.3)) == .matched(residentID: "a"))
        for step in 1...10 {
            let verdict = aggregator.observe("a", at: .at(0.3 + Double(step) * 0.1))
            #expect(verdict == .pending)
        }
        #expect(aggregator.observe("a", at: .at(6)) == .pending)
        #expect(aggregator.observe("a", at: .at(6.1)) == .pending)
        #expect(aggregator.observe("a", at: .at(6.2)) == .matched(residentID: "a"))
    }

    @Test mutating func aSingleLuckyFrameNeverOpens() {
        #expect(aggregator.observe("a", at: .at(0)) == .pending)
        #expect(aggregator.observe("b", at: .at(0.1)) == .pending)
        #expect(aggregator.observe("a", at: .at(3)) == .pending, "frames older than the window do not count")
        #expect(aggregator.observe("c", at: .at(3.1)) == .pending)
    }

    @Test mutating func aStrangerYieldsOneNoMatchPerPresence() {
        var verdicts: [MatchVerdict] = []
        for step in 0..<20 { verdicts.append(aggregator.observe(nil, at: .at(Double(step) * 0.1))) }
        #expect(verdicts.filter { $0 == .noMatch }.count == 1)
        #expect(verdicts[4] == .noMatch, "decided once the window is full")
    }

    @Test mutating func aResidentCanFollowAStrangerDuringTheCooldown() {
        for step in 0..<5 { _ = aggregator.observe(nil, at: .at(Double(step) * 0.1)) }
        _ = aggregator.observe("a", at: .at(1))
        _ = aggregator.observe("a", at: .at(1.1))
        #expect(aggregator.observe("a", at: .at(1.2)) == .matched(residentID: "a"))
    }
}
