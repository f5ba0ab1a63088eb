/// What the near-infrared frame taken with a colour frame showed where the face should be.
public struct InfraredEvidence: Sendable, Hashable {
    /// A face was detected in the infrared frame within the calibrated tolerance of the colour face's place.
    public var faceFound: Bool
    /// Mean grey level (0–255) inside the colour face's box mapped into the infrared frame.
    public var mean: Double
    /// Standard deviation of the grey level there: the contrast of the face.
    public var contrast: Double
    /// Fraction of those pixels at 250 or more (a face in IR light is not a white sheet).
    public var saturated: Double

    public init(faceFound: Bool, mean: Double, contrast: Double, saturated: Double) {
        self.faceFound = faceFound
        self.mean = mean
        self.contrast = contrast
        self.saturated = saturated
    }
}

/// The infrared cue: phone and tablet screens emit no near-infrared image (the face region is dark and the
/// detector finds nothing there), and most dye-based prints lose their contrast under 850/940 nm light
/// (washed out, almost uniform). A live face under IR illumination is found by the detector at the
/// calibrated place and is moderately bright with clear structure. Carbon-toner (laser) prints keep IR
/// contrast and are *not* caught by this cue alone: docs/face.md.
public struct InfraredRules: Sendable, Hashable {
    /// Brightness range of a lit face (0–255).
    public var minimumMean: Double
    public var maximumMean: Double
    /// Contrast needed inside the face box.
    public var minimumContrast: Double
    /// At most this fraction of saturated pixels.
    public var maximumSaturated: Double

    public init(minimumMean: Double = 35, maximumMean: Double = 235, minimumContrast: Double = 14, maximumSaturated: Double = 0.25) {
        self.minimumMean = minimumMean
        self.maximumMean = maximumMean
        self.minimumContrast = minimumContrast
        self.maximumSaturated = maximumSaturated
    }

    /// Why the infrared frame does not show a live face, or `nil` when it does. Never names the person.
    public func problem(_ evidence: InfraredEvidence?) -> String? {
        guard let evidence else { return "no infrared frame" }
        guard evidence.faceFound else { return "no face in the infrared frame at the calibrated place" }
        if evidence.mean < minimumMean { return "the face is dark in infrared (a screen emits none)" }
        if evidence.mean > maximumMean || evidence.saturated > maximumSaturated { return "the face is washed out in infrared" }
        if evidence.contrast < minimumContrast { return "the face has no infrared contrast (a print)" }
        return nil
    }

    public func verdict(_ evidence: InfraredEvidence?) -> LivenessVerdict {
        evidence == nil ? .undecided : problem(evidence) == nil ? .live : .attack
    }
}

/// One walk-up's liveness under a door's policy: collects the landmark sets and infrared verdicts of the
/// frames in which the face was seen, in memory only, and says whether the policy holds.
public struct LivenessTracker: Sendable {
    public var policy: LivenessPolicy
    public var geometry: PlanarGeometryCue
    public var infrared: InfraredRules
    /// The walk-up's noses in the plane of eyes and mouth (``PlanarGeometryCue/planeNose(_:)``), one per frame,
    /// the last `geometry.maximumFrames`: computed once as each frame arrives.
    private(set) var noses: [SIMD2<Double>] = []
    private(set) var infraredLive = 0
    private(set) var infraredAttacks = 0

    public init(policy: LivenessPolicy, geometry: PlanarGeometryCue = PlanarGeometryCue(), infrared: InfraredRules = InfraredRules()) {
        self.policy = policy
        self.geometry = geometry
        self.infrared = infrared
    }

    /// Forgets the walk-up (after a decision, or when the face left for longer than the window).
    public mutating func reset() {
        noses.removeAll()
        infraredLive = 0
        infraredAttacks = 0
    }

    /// Adds one frame's landmarks and, when the policy uses it, its infrared evidence.
    public mutating func observe(_ points: FivePoints, infrared evidence: InfraredEvidence?) {
        if policy.needsGeometry, let nose = PlanarGeometryCue.planeNose(points) {
            noses.append(nose)
            if noses.count > geometry.maximumFrames { noses.removeFirst(noses.count - geometry.maximumFrames) }
        }
        if policy.needsInfrared {
            if infrared.verdict(evidence) == .live { infraredLive += 1 } else { infraredAttacks += 1 }
        }
    }

    /// What the geometry cue compares with its threshold over the frames kept (0 when the policy has no geometry).
    public var geometryDeparture: Double { PlanarGeometryCue.departure(noses: noses) }

    /// `live` when every cue of the policy holds, `attack` when one says attack, else `undecided`.
    /// Infrared holds when most infrared frames of the walk-up show a live face (one dark frame from a
    /// blink of the illuminator does not refuse a resident; a screen is dark in every frame).
    public var verdict: LivenessVerdict {
        var verdicts: [LivenessVerdict] = []
        if policy.needsInfrared {
            verdicts.append(infraredLive == 0 && infraredAttacks == 0 ? .undecided
                            : infraredLive > infraredAttacks ? .live : infraredAttacks >= 2 || infraredLive == 0 ? .attack : .undecided)
        }
        if policy.needsGeometry { verdicts.append(geometry.verdict(noses: noses)) }
        if verdicts.contains(.attack) { return .attack }
        return verdicts.allSatisfy { $0 == .live } ? .live : .undecided
    }
}
