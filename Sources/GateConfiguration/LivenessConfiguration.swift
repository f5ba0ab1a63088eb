public import GateCore

/// `face.liveness` and `face.infrared`: what the camera's door demands besides a match before a face opens
/// it (docs/face.md#liveness), and the near-infrared camera paired with the colour camera.
public struct LivenessConfiguration: Sendable, Hashable {
    /// The near-infrared camera captured in step with the colour camera (`face.infrared`).
    public struct Infrared: Sendable, Hashable {
        /// `replay` (path: JPEG directory or MJPEG file, frame i paired with colour frame i) or `camera` (object,
        /// like `face.source.camera`: the IR device, e.g. the second node of a dual-stream UVC camera).
        public var replayPath: String?
        public var camera: CameraConfiguration?
        /// `offset` ([dx, dy] in infrared pixels, default [0, 0]) and `scale` (0.2–5, default 1): where a point
        /// of the colour frame lies in the infrared frame (`ir = colour × scale + offset`), from calibration.
        public var offset: [Double]
        public var scale: Double
        /// `tolerance` (0.05–1, default 0.35): how far, in face widths, the IR face may lie from that place.
        public var tolerance: Double
    }

    /// `liveness` (ir|ir+geometry|geometry|none; default the strongest the cameras allow: `ir+geometry` with
    /// `face.infrared`, else `geometry`).
    public var policy: LivenessPolicy
    /// `noLivenessAcknowledged` (bool, default false): required for `none`, which lets a photo open the door.
    public var noneAcknowledged: Bool
    public var infrared: Infrared?
    /// `strongDistance` (0–2, default 0.7 × the threshold; 0 turns adaptive agreement off): a frame this close
    /// to a template decides alone when liveness holds; farther ones need `requiredFrames`.
    public var strongDistance: Double?
    /// `livenessFrames` (2–100, default 12): matching face frames without liveness before `livenessFailed`.
    public var livenessFrames: Int
    public static let defaultLivenessFrames = 12
    /// `geometryResidual` (0.02–0.5, default 0.08): how far (eye distances) the nose's mean position in the plane of
    /// the eyes and mouth must move between an earlier and a later run of the walk-up's frames to say "not flat".
    public var geometryResidual: Double

    init(_ object: inout ConfigObject) throws(ConfigurationError) {
        if object.has("infrared") {
            var ir = try object.object("infrared")
            let replay = try ir.string("replay", default: nil)
            var camera: CameraConfiguration?
            if ir.has("camera") {
                var cameraObject = try ir.object("camera")
                camera = try CameraConfiguration(&cameraObject)
                try cameraObject.finish()
            }
            guard (replay == nil) != (camera == nil) else {
                throw ConfigurationError(key: "face.infrared", problem: "give either face.infrared.replay or face.infrared.camera (one of them)")
            }
            infrared = Infrared(replayPath: replay, camera: camera,
                                offset: try ir.numbers("offset", count: 2, range: -4096...4096) ?? [0, 0],
                                scale: try ir.number("scale", default: 1, range: 0.2...5),
                                tolerance: try ir.number("tolerance", default: 0.35, range: 0.05...1))
            try ir.finish()
        }
        let strongest = LivenessPolicy.strongest(infraredConfigured: infrared != nil)
        policy = try object.choice("liveness", default: strongest)
        noneAcknowledged = try object.bool("noLivenessAcknowledged", default: false)
        if policy == .none && !noneAcknowledged {
            throw ConfigurationError(key: "face.liveness", problem: "\"none\" means \(LivenessPolicy.noneRisk); "
                                     + "set face.noLivenessAcknowledged to true to accept that, or use \(strongest.rawValue)")
        }
        if policy.needsInfrared && infrared == nil {
            throw ConfigurationError(key: "face.liveness", problem: "\"\(policy.rawValue)\" needs an infrared camera (face.infrared)")
        }
        let strong = try object.numberIfPresent("strongDistance", range: 0...2)
        strongDistance = strong
        livenessFrames = try object.integer("livenessFrames", default: Self.defaultLivenessFrames, range: 2...100)
        geometryResidual = try object.number("geometryResidual", default: 0.08, range: 0.02...0.5)
    }

    /// The door's geometry cue: its threshold, and a window as long as the walk-up the daemon waits for
    /// (`livenessFrames`), so the means see every frame that may still decide; never fewer than the cue needs to
    /// say `live` or `attack`.
    public var geometryCue: PlanarGeometryCue {
        PlanarGeometryCue(liveResidual: geometryResidual, maximumFrames: max(livenessFrames, 4))
    }

    /// The line `config check` and `status` print for the camera's door.
    public func summary(door: String) -> String {
        "face liveness at door \(door): \(policy.summary)"
    }
}
