import Foundation
import GateCore
import Testing

/// A face in 3-D (units of eye distance): eyes and mouth corners in one plane, the nose tip `noseDepth` in front
/// of it, seen by a pinhole camera after the head turned by `yaw` and `pitch` (radians).
func projectedFace(yaw: Double, pitch: Double = 0, distance: Double = 8, noseDepth: Double = 0.55, flat: Bool = false,
                   shift: SIMD2<Double> = .zero) -> FivePoints {
    let focal = 100.0
    func project(_ x: Double, _ y: Double, _ z: Double) -> SIMD2<Double> {
        // yaw about the vertical axis, then pitch about the horizontal one; the camera looks along +z.
        let x1 = x * cos(yaw) + z * sin(yaw), z1 = -x * sin(yaw) + z * cos(yaw)
        let y2 = y * cos(pitch) - z1 * sin(pitch), z2 = y * sin(pitch) + z1 * cos(pitch)
        let depth = distance + z2
        return SIMD2(320 + focal * x1 / depth, 240 + focal * y2 / depth) + shift
    }
    let nose = flat ? project(0, 0.55, 0) : project(0, 0.55, -noseDepth)
    return FivePoints(rightEye: project(-0.5, 0, 0), leftEye: project(0.5, 0, 0), nose: nose,
                      rightMouth: project(-0.4, 1.1, 0), leftMouth: project(0.4, 1.1, 0))
}

@Suite struct PlanarGeometryCueTests {
    @Test func theHomographyOfFourPointsIsExact() throws {
        let a: [SIMD2<Double>] = [SIMD2(10, 10), SIMD2(60, 12), SIMD2(14, 70), SIMD2(58, 66)]
        let b: [SIMD2<Double>] = [SIMD2(110, 30), SIMD2(170, 40), SIMD2(100, 95), SIMD2(180, 100)]
        let h = try #require(Homography(from: a, to: b))
        for (p, q) in zip(a, b) {
            let mapped = try #require(h.apply(p))
            #expect(abs(mapped.x - q.x) < 1e-6 && abs(mapped.y - q.y) < 1e-6)
        }
        #expect(Homography(from: [SIMD2(0, 0), SIMD2(1, 1), SIMD2(2, 2), SIMD2(3, 3)], to: b) == nil, "collinear points fit no homography")
    }

    @Test func aFlatPictureTiltedAndMovedKeepsTheNoseOnThePlane() throws {
        // A photo is a plane: whatever way it turns, its nose keeps its place in the plane of eyes and mouth.
        let frames = [projectedFace(yaw: 0, flat: true), projectedFace(yaw: 0.35, pitch: 0.2, flat: true, shift: SIMD2(40, -10)),
                      projectedFace(yaw: -0.3, pitch: -0.15, distance: 6, flat: true), projectedFace(yaw: 0.1, distance: 12, flat: true)]
        let first = try #require(PlanarGeometryCue.planeNose(frames[0]))
        for frame in frames {
            let nose = try #require(PlanarGeometryCue.planeNose(frame))
            #expect(abs(nose.x - first.x) < 1e-6 && abs(nose.y - first.y) < 1e-6)
        }
        #expect(PlanarGeometryCue.departure(frames) < 0.005)
        #expect(PlanarGeometryCue().verdict(frames) == .attack)
    }

    @Test func aRealHeadTurningEightDegreesLeavesThePlane() {
        let turn = 8 * Double.pi / 180
        #expect(PlanarGeometryCue.departure([projectedFace(yaw: 0), projectedFace(yaw: turn)]) >= 0.08)
        #expect(PlanarGeometryCue().verdict([projectedFace(yaw: 0), projectedFace(yaw: turn)]) == .undecided,
                "two frames could be landmark jitter: three are needed")
        let frames = [projectedFace(yaw: 0), projectedFace(yaw: 0.01), projectedFace(yaw: turn), projectedFace(yaw: turn + 0.01)]
        #expect(PlanarGeometryCue().verdict(frames) == .live)
        // Nodding works as well as turning.
        let nod = [projectedFace(yaw: 0), projectedFace(yaw: 0, pitch: 0.01), projectedFace(yaw: 0, pitch: 0.15), projectedFace(yaw: 0, pitch: 0.16)]
        #expect(PlanarGeometryCue().verdict(nod) == .live)
    }

    @Test func aHeadThatDoesNotTurnIsUndecidedThenRefused() {
        let still = projectedFace(yaw: 0.05)
        let cue = PlanarGeometryCue()
        #expect(cue.verdict([still]) == .undecided)
        #expect(cue.verdict([still, still]) == .undecided)
        #expect(cue.verdict([still, still, still, still]) == .attack, "documented: a resident who holds perfectly still is not passed")
        // Walking straight at the camera without turning: the nose barely leaves the plane (a documented limit).
        #expect(cue.verdict([projectedFace(yaw: 0, distance: 30), projectedFace(yaw: 0, distance: 20), projectedFace(yaw: 0, distance: 15),
                             projectedFace(yaw: 0, distance: 10)]) == .attack)
    }

    /// The detector's landmarks jitter (about 0.015 eye distances per point here). Comparing single pairs of frames
    /// let that jitter pass for a head's depth more often the longer a photo was held up (3 pairs of 28 in an
    /// 8-frame window: issue 12's 12-frame evaluation accepted 10 of 56 attacks); means over runs of frames do not.
    @Test func landmarkJitterOnAPhotoHeldUpForTwelveFramesDoesNotPassForAHead() {
        var random = SeededGaussian(seed: 7)
        func jittered(_ frame: FivePoints) -> FivePoints {
            let sigma = 0.015 * frame.interOcular
            func j(_ p: SIMD2<Double>) -> SIMD2<Double> { p + SIMD2(random.next(), random.next()) * sigma }
            return FivePoints(rightEye: j(frame.rightEye), leftEye: j(frame.leftEye), nose: j(frame.nose),
                              rightMouth: j(frame.rightMouth), leftMouth: j(frame.leftMouth))
        }
        /// Feeds 12 frames to the door's tracker as the recogniser does; true when it said `live` at any frame.
        func accepted(_ frames: [FivePoints]) -> Bool {
            var tracker = LivenessTracker(policy: .geometry)
            return frames.contains { frame in
                tracker.observe(frame, infrared: nil)
                return tracker.verdict == .live
            }
        }
        /// The old rule on the same frames: 3 pairs of frames of the 8-frame window with a residual of 0.08.
        func acceptedByPairs(_ frames: [FivePoints]) -> Bool {
            (2...frames.count).contains { end in
                let window = Array(frames[max(0, end - 8)..<end])
                var residuals: [Double] = []
                for i in window.indices { for k in window.indices where k > i {
                    residuals.append(PlanarGeometryCue.residual(from: window[i], to: window[k]) ?? 0) } }
                return residuals.filter { $0 >= 0.08 }.count >= 3
            }
        }
        var photos = 0, photosByPairs = 0, heads = 0
        let walkUps = 300
        for _ in 0..<walkUps {
            // A print moved, tilted and brought closer; a head that turns 12° over frames 4 to 8 of the same path.
            let print = (0..<12).map { k in
                jittered(projectedFace(yaw: 0.2 - 0.03 * Double(k), pitch: 0.01 * Double(k), distance: 10 - 0.3 * Double(k), flat: true,
                                       shift: SIMD2(3 * Double(k), 0)))
            }
            let head = (0..<12).map { k in
                jittered(projectedFace(yaw: 0.21 * min(1, max(0, Double(k - 3) / 4)), distance: 10 - 0.3 * Double(k), shift: SIMD2(3 * Double(k), 0)))
            }
            photos += accepted(print) ? 1 : 0
            photosByPairs += acceptedByPairs(print) ? 1 : 0
            heads += accepted(head) ? 1 : 0
        }
        #expect(Double(photos) <= 0.02 * Double(walkUps), "photos accepted: \(photos) of \(walkUps)")
        #expect(photosByPairs > 4 * max(photos, 1), "the pair rule accepted \(photosByPairs), this rule \(photos)")
        #expect(Double(heads) >= 0.95 * Double(walkUps), "heads accepted: \(heads) of \(walkUps)")
    }
}

@Suite struct InfraredRulesTests {
    let rules = InfraredRules()

    @Test func aLiveFaceAScreenAndAWashedOutPrint() {
        #expect(rules.verdict(InfraredEvidence(faceFound: true, mean: 120, contrast: 40, saturated: 0.01)) == .live)
        #expect(rules.problem(InfraredEvidence(faceFound: false, mean: 8, contrast: 2, saturated: 0)) == "no face in the infrared frame at the calibrated place")
        #expect(rules.problem(InfraredEvidence(faceFound: true, mean: 12, contrast: 20, saturated: 0)) == "the face is dark in infrared (a screen emits none)")
        #expect(rules.problem(InfraredEvidence(faceFound: true, mean: 215, contrast: 5, saturated: 0)) == "the face has no infrared contrast (a print)")
        #expect(rules.problem(InfraredEvidence(faceFound: true, mean: 180, contrast: 30, saturated: 0.6)) == "the face is washed out in infrared")
        #expect(rules.verdict(nil) == .undecided)
    }

    @Test func theTrackerNeedsMostInfraredFramesLiveAndEveryCueOfThePolicy() {
        let live = InfraredEvidence(faceFound: true, mean: 120, contrast: 40, saturated: 0)
        let dark = InfraredEvidence(faceFound: false, mean: 5, contrast: 1, saturated: 0)
        var ir = LivenessTracker(policy: .ir)
        #expect(ir.verdict == .undecided)
        ir.observe(projectedFace(yaw: 0), infrared: live)
        #expect(ir.verdict == .live, "one infrared frame decides")
        ir.observe(projectedFace(yaw: 0), infrared: dark)
        ir.observe(projectedFace(yaw: 0), infrared: live)
        #expect(ir.verdict == .live, "one dark frame (the illuminator blinked) among live ones does not refuse")
        var screen = LivenessTracker(policy: .ir)
        screen.observe(projectedFace(yaw: 0), infrared: dark)
        #expect(screen.verdict == .attack)
        screen.observe(projectedFace(yaw: 0), infrared: nil)
        #expect(screen.verdict == .attack, "a missing infrared frame never counts as live")

        var both = LivenessTracker(policy: .irAndGeometry)
        both.observe(projectedFace(yaw: 0), infrared: live)
        #expect(both.verdict == .undecided, "infrared holds, geometry needs more frames")
        for yaw in [0.01, 0.2, 0.21] { both.observe(projectedFace(yaw: yaw), infrared: live) }
        #expect(both.verdict == .live)
        var flatButWarm = LivenessTracker(policy: .irAndGeometry)
        for yaw in [0.0, 0.2, 0.4, 0.3] { flatButWarm.observe(projectedFace(yaw: yaw, flat: true), infrared: live) }
        #expect(flatButWarm.verdict == .attack, "a print that fools the infrared camera is still flat")
    }

    @Test func thePolicyNamesAndTheDefault() {
        #expect(LivenessPolicy(rawValue: "ir+geometry") == .irAndGeometry)
        #expect(LivenessPolicy.strongest(infraredConfigured: true) == .irAndGeometry)
        #expect(LivenessPolicy.strongest(infraredConfigured: false) == .geometry)
        #expect(LivenessPolicy.none.summary.contains("a photo of an enrolled resident can open this door"))
    }
}

@Suite struct AdaptiveAgreementTests {
    func aggregator(strong: Float?) -> MatchAggregator<T> {
        MatchAggregator(rules: MatchRules(threshold: 0.5, margin: 0.05, requiredAgreeing: 3, windowFrames: 5, window: .seconds(2),
                                          cooldown: .seconds(5), strongDistance: strong, livenessPatience: 4))
    }

    @Test func oneFrameFarInsideTheThresholdDecidesWhenLivenessHolds() {
        var adaptive = aggregator(strong: 0.35)
        #expect(adaptive.observe("a", distance: 0.3, liveness: .live, at: .at(0)) == .matched(residentID: "a"))
        var fixed = aggregator(strong: nil)
        #expect(fixed.observe("a", distance: 0.3, liveness: .live, at: .at(0)) == .pending, "the old rule: 3 of 5")
        #expect(fixed.observe("a", distance: 0.3, liveness: .live, at: .at(0.1)) == .pending)
        #expect(fixed.observe("a", distance: 0.3, liveness: .live, at: .at(0.2)) == .matched(residentID: "a"))
    }

    @Test func borderlineDistancesStillNeedThreeAgreeingFrames() {
        var adaptive = aggregator(strong: 0.35)
        #expect(adaptive.observe("a", distance: 0.45, liveness: .live, at: .at(0)) == .pending)
        #expect(adaptive.observe("a", distance: 0.42, liveness: .live, at: .at(0.1)) == .pending)
        #expect(adaptive.observe("a", distance: 0.44, liveness: .live, at: .at(0.2)) == .matched(residentID: "a"))
    }

    @Test func aStrangersFullWindowIsDecidedBeforeAStrongFrameOfTheResidentWhoFollows() {
        var adaptive = aggregator(strong: 0.35)
        for step in 0..<4 { #expect(adaptive.observe(nil, distance: 0.8, liveness: .live, at: .at(Double(step) * 0.1)) == .pending) }
        #expect(adaptive.observe("a", distance: 0.2, liveness: .live, at: .at(0.4)) == .noMatch, "the stranger's presence is recorded")
        #expect(adaptive.observe("a", distance: 0.2, liveness: .live, at: .at(0.5)) == .matched(residentID: "a"), "then the resident, one frame later")
        var mixed = aggregator(strong: 0.35)
        #expect(mixed.observe(nil, distance: 0.8, liveness: .live, at: .at(0)) == .pending)
        #expect(mixed.observe("a", distance: 0.2, liveness: .live, at: .at(0.1)) == .pending,
                "after a face that matched nobody, one strong frame is not enough: the fixed rule applies")
        #expect(mixed.observe("a", distance: 0.2, liveness: .live, at: .at(0.2)) == .pending)
        #expect(mixed.observe("a", distance: 0.2, liveness: .live, at: .at(0.3)) == .matched(residentID: "a"))
    }

    @Test func noMatchWithoutLivenessAndLivenessFailedAfterThePatience() {
        var adaptive = aggregator(strong: 0.35)
        var verdicts: [MatchVerdict] = []
        for step in 0..<6 { verdicts.append(adaptive.observe("a", distance: 0.3, liveness: step < 3 ? .undecided : .attack, at: .at(Double(step) * 0.1))) }
        #expect(verdicts == [.pending, .pending, .pending, .livenessFailed, .pending, .pending],
                "never matched without liveness; refused once, then the cooldown")
        #expect(!verdicts.contains(.matched(residentID: "a")))
        // Liveness that arrives in time opens.
        var late = aggregator(strong: 0.35)
        #expect(late.observe("a", distance: 0.3, liveness: .undecided, at: .at(0)) == .pending)
        #expect(late.observe("a", distance: 0.3, liveness: .live, at: .at(0.1)) == .matched(residentID: "a"))
    }
}
