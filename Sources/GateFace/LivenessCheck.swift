public import FaceVision
public import GateConfiguration
public import GateCore

extension FivePoints {
    /// The detector's five landmarks, for the geometry cue.
    public init(_ face: FaceObservation) {
        func d(_ p: SIMD2<Float>) -> SIMD2<Double> { SIMD2(Double(p.x), Double(p.y)) }
        let l = face.landmarks
        self.init(rightEye: d(l.rightEye), leftEye: d(l.leftEye), nose: d(l.nose), rightMouth: d(l.rightMouthCorner),
                  leftMouth: d(l.leftMouthCorner))
    }
}

/// The infrared cue's image side: finds the colour frame's face in the infrared frame taken with it, at the
/// calibrated place (`face.infrared`), and measures it there. The frame is read and dropped; nothing is kept.
public struct InfraredCheck: Sendable {
    public var offset: SIMD2<Float>
    public var scale: Float
    public var tolerance: Float

    public init(offset: SIMD2<Float> = .zero, scale: Float = 1, tolerance: Float = 0.35) {
        self.offset = offset
        self.scale = scale
        self.tolerance = tolerance
    }

    public init(_ configuration: LivenessConfiguration.Infrared) {
        self.init(offset: SIMD2(Float(configuration.offset[0]), Float(configuration.offset[1])), scale: Float(configuration.scale),
                  tolerance: Float(configuration.tolerance))
    }

    /// Where the colour face's box lies in the infrared frame.
    public func mapped(_ box: FaceBox) -> FaceBox {
        FaceBox(x: box.x * scale + offset.x, y: box.y * scale + offset.y, width: box.width * scale, height: box.height * scale)
    }

    /// - Returns: the evidence for ``InfraredRules``: whether a face of about the same size is found within
    ///   `tolerance` face widths of the mapped place, and the grey statistics of the mapped box.
    public func evidence(for face: FaceObservation, in infrared: BGRImage, detector: any FaceDetector) throws -> InfraredEvidence {
        let expected = mapped(face.box)
        // The central part of the box: the face itself, not the background at its corners.
        let inner = FaceBox(x: expected.x + expected.width * 0.2, y: expected.y + expected.height * 0.15,
                            width: expected.width * 0.6, height: expected.height * 0.7)
        guard let stats = infrared.greyStatistics(in: inner) else {
            return InfraredEvidence(faceFound: false, mean: 0, contrast: 0, saturated: 0)
        }
        let found = try detector.detect(in: infrared).contains { candidate in
            let d = candidate.box.center - expected.center
            let ratio = candidate.box.width / max(expected.width, 1)
            return (d * d).sum().squareRoot() <= tolerance * expected.width && ratio > 0.6 && ratio < 1.6
        }
        return InfraredEvidence(faceFound: found, mean: stats.mean, contrast: stats.deviation, saturated: stats.saturated)
    }
}

/// The recogniser's liveness state for the walk-up in front of the camera: the door's policy
/// (`face.liveness`), fed with the frames in which the face matched the same resident. Frames of another
/// face, or of nobody, never count towards a resident's liveness, so a live accomplice beside a photo does
/// not lend it his head's depth. Landmarks and verdicts only, in memory; no frame is kept.
public struct WalkUpLiveness {
    public var tracker: LivenessTracker
    public let infraredCheck: InfraredCheck?
    public let window: Duration
    private var subject: String?
    private var lastSeen: ContinuousClock.Instant?

    public init(_ configuration: LivenessConfiguration, window: Duration) {
        tracker = LivenessTracker(policy: configuration.policy, geometry: configuration.geometryCue)
        infraredCheck = configuration.infrared.map(InfraredCheck.init)
        self.window = window
    }

    public var policy: LivenessPolicy { tracker.policy }

    public mutating func reset() {
        tracker.reset()
        subject = nil
        lastSeen = nil
    }

    /// Adds one frame whose face matched `candidate` (nothing is added for `nil`) and returns the walk-up's verdict.
    /// - Parameter infrared: the infrared frame taken with the colour frame, decoded only when the policy needs it.
    public mutating func observe(_ face: FaceObservation, candidate: String?, infrared: () -> BGRImage?, detector: any FaceDetector,
                          at now: ContinuousClock.Instant) -> LivenessVerdict {
        guard policy != .none else { return .live }
        if let lastSeen, lastSeen.advanced(by: window) < now { reset() }
        guard let candidate else { return tracker.verdict }
        if candidate != subject {
            tracker.reset()
            subject = candidate
        }
        lastSeen = now
        var evidence: InfraredEvidence?
        if policy.needsInfrared, let check = infraredCheck, let image = infrared() {
            evidence = try? check.evidence(for: face, in: image, detector: detector)
        }
        tracker.observe(FivePoints(face), infrared: evidence)
        return tracker.verdict
    }
}
