internal import CFaceVision
internal import Synchronization

/// CenterFace (`centerface.onnx`) run by OpenCV dnn: boxes, five landmarks and scores.
///
/// Every frame is letterboxed into one fixed network input (default 640x480): OpenCV 4.6 caches layer shapes at
/// the first `forward()`, and a second input size on the same network returns junk boxes.
///
/// `@unchecked Sendable`: the C handle is immutable after `init` and every use of it happens inside `lock`, so
/// concurrent callers are serialised; `deinit` runs when no caller is left.
public final class CenterFaceDetector: FaceDetector, @unchecked Sendable {
    /// Network input size; frames of any size are letterboxed into it.
    public let inputWidth: Int
    public let inputHeight: Int
    /// Minimum heatmap score of a face (CenterFace's default 0.5).
    public let scoreThreshold: Float
    /// IoU above which the lower-scored of two boxes is dropped (0.3).
    public let nmsThreshold: Float
    /// Most faces returned per frame.
    public let maximumFaces: Int

    private let handle: OpaquePointer
    private let lock = Mutex(())

    /// Loads the model. The corresponding C function is `cface_detector_open`.
    /// - Parameters:
    ///   - modelPath: path of `centerface.onnx`.
    ///   - inputWidth, inputHeight: network input, positive multiples of 32.
    /// - Throws: ``FaceVisionError/modelMissing(path:)``, `.modelUnreadable`, `.modelInvalid` (not an ONNX
    ///   network), `.invalidArgument` (input size).
    public init(
        modelPath: String,
        inputWidth: Int = 640,
        inputHeight: Int = 480,
        scoreThreshold: Float = 0.5,
        nmsThreshold: Float = 0.3,
        maximumFaces: Int = 32
    ) throws(FaceVisionError) {
        guard maximumFaces > 0 else { throw .invalidArgument(message: "maximumFaces must be positive") }
        try CFace.checkReadable(modelPath)
        var handle: OpaquePointer?
        try CFace.call(modelPath: modelPath) { error, size in
            cface_detector_open(modelPath, Int32(inputWidth), Int32(inputHeight), &handle, error, size)
        }
        guard let handle else { throw .modelInvalid(path: modelPath, message: "no handle returned") }
        self.handle = handle
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.scoreThreshold = scoreThreshold
        self.nmsThreshold = nmsThreshold
        self.maximumFaces = maximumFaces
    }

    /// Loads `centerface.onnx` from `modelsDirectory`.
    public convenience init(modelsDirectory: String) throws(FaceVisionError) {
        try self.init(modelPath: CFace.join(modelsDirectory, "centerface.onnx"))
    }

    deinit { cface_detector_close(handle) }

    /// The faces in `image`, highest score first, at most ``maximumFaces``. The corresponding C function is
    /// `cface_detector_detect`.
    public func detect(in image: BGRImage) throws(FaceVisionError) -> [FaceObservation] {
        var faces = [cface_face](repeating: cface_face(), count: maximumFaces)
        let count = try CFace.call(lock: lock, image: image, output: &faces) { pixels, buffer, error, size in
            cface_detector_detect(handle, pixels, Int32(image.width), Int32(image.height), Int32(image.stride),
                                  scoreThreshold, nmsThreshold, buffer.baseAddress, Int32(buffer.count), error, size)
        }
        return faces.prefix(min(Int(count), maximumFaces)).map(FaceObservation.init(cface:))
    }
}

extension FaceObservation {
    init(cface f: cface_face) {
        let l = f.landmarks
        self.init(
            box: FaceBox(x: f.x, y: f.y, width: f.width, height: f.height),
            landmarks: FaceLandmarks(
                rightEye: SIMD2(l.0, l.1),
                leftEye: SIMD2(l.2, l.3),
                nose: SIMD2(l.4, l.5),
                rightMouthCorner: SIMD2(l.6, l.7),
                leftMouthCorner: SIMD2(l.8, l.9)
            ),
            score: f.score
        )
    }

    /// The landmarks as the C side's `float[10]`.
    var cLandmarks: [Float] { landmarks.points.flatMap { [$0.x, $0.y] } }
    var cBox: [Float] { [box.x, box.y, box.width, box.height] }
}
