/// What a door's face entry demands, besides a match, before a face may open it (`face.liveness`).
///
/// A face matcher alone cannot tell a resident from a photo or a phone screen showing them. The cues are
/// built from sensors and geometry that can be checked here (no anti-spoofing model with usable weights is
/// available): a near-infrared frame taken in step with the colour frame (``InfraredRules``), and the 3-D
/// shape of the head across the frames of one walk-up (``PlanarGeometryCue``). docs/face.md has the limits
/// and the measured error rates.
public enum LivenessPolicy: String, Sendable, Hashable, CaseIterable, Codable {
    /// The face must also be found, at the calibrated place, in the infrared frame, with plausible IR statistics.
    case ir
    /// Both the infrared cue and the geometry cue must hold.
    case irAndGeometry = "ir+geometry"
    /// The nose must leave the plane of the eyes and mouth as the head moves (no infrared camera needed).
    case geometry
    /// No check: a photo of an enrolled resident can open the door. Accepted only with an acknowledgement.
    case none

    public var needsInfrared: Bool { self == .ir || self == .irAndGeometry }
    public var needsGeometry: Bool { self == .geometry || self == .irAndGeometry }

    /// The sentence `config check`, `status` and the documents print for `none`.
    public static let noneRisk = "a photo of an enrolled resident can open this door"

    /// The strongest policy the configured cameras allow: `ir+geometry` with an infrared camera, else `geometry`.
    public static func strongest(infraredConfigured: Bool) -> LivenessPolicy {
        infraredConfigured ? .irAndGeometry : .geometry
    }

    /// One line for `config check` and `status`.
    public var summary: String {
        switch self {
        case .ir: "ir (the face must show in the infrared camera)"
        case .irAndGeometry: "ir+geometry (infrared camera and head shape across frames)"
        case .geometry: "geometry (head shape across frames; a video of the resident defeats it)"
        case .none: "none: \(Self.noneRisk)"
        }
    }
}

/// What one liveness check concluded about a walk-up so far.
public enum LivenessVerdict: String, Sendable, Hashable, Codable {
    /// The cue holds: the evidence says a live face.
    case live
    /// The evidence says a presentation attack (flat picture, a screen in infrared, a washed-out print).
    case attack
    /// Not enough evidence yet (too few frames, the head has not moved).
    case undecided
}
