public import GateCore

/// The `face` section: which door the camera serves, which models, how strict matching is, and where
/// frames come from. Face entry runs only when a door lists `face` in its methods *and* a frame
/// source is configured; otherwise the camera stays off (R15).
public struct FaceConfiguration: Sendable, Hashable {
    /// A config-described OpenCV-dnn embedding network (`face.dnn.*`).
    public struct NetworkEmbedder: Sendable, Hashable {
        /// `id` (string, required): recorded with every template; changing networks forces re-enrolment.
        public var id: String
        /// `model` (path, required), `config` (path, optional: Caffe prototxt / TF pbtxt).
        public var model: String
        public var config: String?
        /// `inputWidth`, `inputHeight` (16–1024, default 112).
        public var inputWidth: Int
        public var inputHeight: Int
        /// `mean` ([3 numbers], default [127.5,127.5,127.5]), `scale` (default 1/127.5), `standardize` (bool,
        /// default false: per-image standardisation instead of mean/scale, as FaceNet wants).
        public var mean: [Double]
        public var scale: Double
        public var standardize: Bool
        /// `swapRB` (bool, default true: the network wants RGB).
        public var swapRB: Bool
        /// `dimension` (16–4096, multiple of 16, default 512), `metric` (cosine|euclidean, default cosine).
        public var dimension: Int
        public var metric: EmbeddingMetric
        /// `threshold` (number, required): the distance below which two faces are the same person.
        public var threshold: Double
        /// `alignment` ([10 numbers]: 5 landmark points x,y in input pixels; default the ArcFace template
        /// scaled to the input size).
        public var alignment: [Double]?
        /// `alignmentZoom` (0.3–2, default 1): scales the default template about the centre; below 1 the
        /// crop is looser (FaceNet was trained on boxes with a margin: 0.8).
        public var alignmentZoom: Double
    }

    public enum Embedder: Sendable, Hashable {
        /// dlib ResNet-29 with 5-point alignment (default).
        case dlib
        case network(NetworkEmbedder)
    }

    /// `door` (string, default: the first door whose methods include face).
    public var door: String
    /// `modelsDirectory` (path, default `<state dir>/models` when it exists, else `/usr/share/optgate/models`).
    public var modelsDirectory: String?
    /// `detectionWidth` × `detectionHeight` (multiples of 32, 128–1280 × 96–960, default 384 × 288): the
    /// detector's fixed input; frames are letterboxed into it and boxes mapped back, so alignment and
    /// embedding still use the full-resolution frame. Smaller is faster; faces must stay ≥ ~10 px wide in it.
    public var detectionWidth: Int
    public var detectionHeight: Int
    /// `embedder` (dlib|dnn, default dlib) and the `dnn` object.
    public var embedder: Embedder
    /// `threshold` (0.05–2, default: the embedder's) and `margin` (0–1, default 0.05) of `MatchRules`.
    public var threshold: Double?
    public var margin: Double
    /// `requiredFrames` (1–30, default 3) of `windowFrames` (1–60, default 5) within `windowSeconds`
    /// (0.2–30, default 2); `cooldownSeconds` (0–600, default 5).
    public var requiredFrames: Int
    public var windowFrames: Int
    public var windowSeconds: Double
    public var cooldownSeconds: Double
    /// `enrolmentWindowSeconds` (5–300, default 60): once an operator arms a camera enrolment, the resident
    /// has this long to present their own card or PIN at the camera's door; capture starts only then.
    public var enrolmentWindowSeconds: Double
    /// Quality gates: `minInterOcularPixels` (5–500, default 25), `maxYawDegrees` (5–90, default 35),
    /// `minSharpness` (0–10000, default 10: variance of the Laplacian), `minScore` (0.3–1, default 0.6).
    public var minInterOcularPixels: Double
    public var maxYawDegrees: Double
    public var minSharpness: Double
    public var minScore: Double
    /// `captureZone` ([x, y, width, height] as fractions of the frame, default the whole frame): faces
    /// whose centre lies outside are ignored.
    public var captureZone: [Double]?
    /// `source.replay` (path: JPEG directory or MJPEG file), `source.fps` (0.1–1000, default 10),
    /// `source.loop` (bool, default true). No `source`: the camera is off.
    public var replay: (path: String, fps: Double, loop: Bool)? {
        get { replayPath.map { ($0, replayFPS, replayLoop) } }
        set { replayPath = newValue?.path; replayFPS = newValue?.fps ?? 10; replayLoop = newValue?.loop ?? true }
    }
    var replayPath: String?
    var replayFPS: Double = 10
    var replayLoop = true
    /// `source.camera` (object): a V4L2 camera instead of a replay (docs/hardware.md).
    public var camera: CameraConfiguration?
    /// `liveness`, `noLivenessAcknowledged`, `infrared`, `strongDistance`, … (LivenessConfiguration.swift).
    public var liveness: LivenessConfiguration

    public func matchRules(defaultThreshold: Float) -> MatchRules {
        let threshold = threshold.map(Float.init) ?? defaultThreshold
        let strong = liveness.strongDistance.map(Float.init) ?? threshold * 0.7
        return MatchRules(threshold: threshold, margin: Float(margin),
                          requiredAgreeing: requiredFrames, windowFrames: windowFrames,
                          window: .milliseconds(Int64(windowSeconds * 1000)), cooldown: .milliseconds(Int64(cooldownSeconds * 1000)),
                          strongDistance: strong > 0 ? strong : nil, livenessPatience: liveness.livenessFrames)
    }

    init(_ object: inout ConfigObject, doors: [DaemonConfiguration.Door]) throws(ConfigurationError) {
        let faceDoor = doors.first { $0.methods.contains(.face) }?.name ?? doors[0].name
        let door = try object.string("door", default: faceDoor) ?? faceDoor
        guard doors.contains(where: { $0.name == door }) else {
            throw ConfigurationError(key: "face.door", problem: "no door is named \"\(door)\"")
        }
        self.door = door
        modelsDirectory = try object.string("modelsDirectory", default: nil)
        detectionWidth = try object.integer("detectionWidth", default: 384, range: 128...1280)
        detectionHeight = try object.integer("detectionHeight", default: 288, range: 96...960)
        for (key, value) in [("detectionWidth", detectionWidth), ("detectionHeight", detectionHeight)] where value % 32 != 0 {
            throw ConfigurationError(key: "face.\(key)", problem: "\(value) is not a multiple of 32")
        }
        threshold = try object.numberIfPresent("threshold", range: 0.05...2)
        margin = try object.number("margin", default: 0.05, range: 0...1)
        requiredFrames = try object.integer("requiredFrames", default: 3, range: 1...30)
        windowFrames = try object.integer("windowFrames", default: 5, range: 1...60)
        guard windowFrames >= requiredFrames else {
            throw ConfigurationError(key: "face.windowFrames", problem: "must be at least face.requiredFrames (\(requiredFrames))")
        }
        windowSeconds = try object.number("windowSeconds", default: 2, range: 0.2...30)
        cooldownSeconds = try object.number("cooldownSeconds", default: 5, range: 0...600)
        enrolmentWindowSeconds = try object.number("enrolmentWindowSeconds", default: 60, range: 5...300)
        minInterOcularPixels = try object.number("minInterOcularPixels", default: 25, range: 5...500)
        maxYawDegrees = try object.number("maxYawDegrees", default: 35, range: 5...90)
        minSharpness = try object.number("minSharpness", default: 10, range: 0...10_000)
        minScore = try object.number("minScore", default: 0.6, range: 0.3...1)
        captureZone = try object.numbers("captureZone", count: 4, range: 0...1)
        if let zone = captureZone, zone[2] <= 0 || zone[3] <= 0 {
            throw ConfigurationError(key: "face.captureZone", problem: "the width and height must be more than 0: no face could ever be inside")
        }

        let kind = try object.string("embedder", default: "dlib")
        var dnn = try object.object("dnn")
        switch kind {
        case "dlib":
            embedder = .dlib
        case "dnn":
            guard let id = try dnn.string("id", default: nil), let model = try dnn.string("model", default: nil),
                  let threshold = try dnn.numberIfPresent("threshold", range: 0.01...4)
            else {
                throw ConfigurationError(key: "face.dnn", problem: "an OpenCV-dnn embedder needs id, model and threshold")
            }
            let dimension = try dnn.integer("dimension", default: 512, range: 16...4096)
            guard dimension % 16 == 0 else { throw ConfigurationError(key: "face.dnn.dimension", problem: "must be a multiple of 16") }
            embedder = .network(NetworkEmbedder(
                id: id, model: model, config: try dnn.string("config", default: nil),
                inputWidth: try dnn.integer("inputWidth", default: 112, range: 16...1024),
                inputHeight: try dnn.integer("inputHeight", default: 112, range: 16...1024),
                mean: try dnn.numbers("mean", count: 3, range: -1000...1000) ?? [127.5, 127.5, 127.5],
                scale: try dnn.number("scale", default: 1 / 127.5, range: 0.000001...1000),
                standardize: try dnn.bool("standardize", default: false),
                swapRB: try dnn.bool("swapRB", default: true),
                dimension: dimension,
                metric: try dnn.choice("metric", default: EmbeddingMetric.cosine),
                threshold: threshold,
                alignment: try dnn.numbers("alignment", count: 10, range: -4096...4096),
                alignmentZoom: try dnn.number("alignmentZoom", default: 1, range: 0.3...2)
            ))
        default:
            throw ConfigurationError(key: "face.embedder", problem: "\"\(kind ?? "")\" is not one of: dlib, dnn")
        }
        try dnn.finish()

        var source = try object.object("source")
        replayPath = try source.string("replay", default: nil)
        replayFPS = try source.number("fps", default: 10, range: 0.1...1000)
        replayLoop = try source.bool("loop", default: true)
        if source.has("camera") {
            var cameraObject = try source.object("camera")
            camera = try CameraConfiguration(&cameraObject)
            try cameraObject.finish()
            guard replayPath == nil else {
                throw ConfigurationError(key: "face.source.camera", problem: "give either face.source.replay or face.source.camera, not both")
            }
        }
        try source.finish()
        liveness = try LivenessConfiguration(&object)
        try object.finish()
    }

    public static func == (lhs: FaceConfiguration, rhs: FaceConfiguration) -> Bool {
        lhs.door == rhs.door && lhs.embedder == rhs.embedder && lhs.replayPath == rhs.replayPath && lhs.threshold == rhs.threshold
            && lhs.camera == rhs.camera && lhs.liveness == rhs.liveness
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(door)
        hasher.combine(replayPath)
    }
}

extension ConfigObject {
    mutating func numberIfPresent(_ key: String, range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        let sentinel = -Double.greatestFiniteMagnitude
        let value = try number(key, default: sentinel, range: range.lowerBound...range.upperBound)
        return value == sentinel ? nil : value
    }
}
