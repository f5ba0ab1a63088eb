internal import CFaceVision
internal import Synchronization

/// dlib's face recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`, 128-d, LFW 99.38 %), aligned
/// by dlib's 5-point shape predictor (`shape_predictor_5_face_landmarks.dat`) run inside the detector's box.
///
/// Needs OpenBLAS as the `libblas.so.3` alternative (`libopenblas0-pthread`): about 10–14 ms per face instead
/// of ~130 ms with the reference BLAS.
///
/// `@unchecked Sendable`: the C handle is immutable after `init` and every use of it happens inside `lock`.
public final class DlibEmbedder: FaceEmbedder, @unchecked Sendable {
    /// `dlib-resnet-v1`, 128, euclidean, 0.6 (dlib's LFW rule; not an access-control threshold).
    public static let standardDescriptor = EmbedderDescriptor(
        id: "dlib-resnet-v1",
        dimension: 128,
        metric: .euclidean,
        defaultThreshold: 0.6
    )

    public let descriptor: EmbedderDescriptor = DlibEmbedder.standardDescriptor
    private let handle: OpaquePointer
    private let lock = Mutex(())

    /// Loads both dlib files. The corresponding C function is `cface_dlib_embedder_open`.
    /// - Throws: ``FaceVisionError/modelMissing(path:)``, `.modelUnreadable`, `.modelInvalid` (not the dlib file
    ///   this network type was declared for).
    public init(shapePredictorPath: String, networkPath: String) throws(FaceVisionError) {
        try CFace.checkReadable(shapePredictorPath)
        try CFace.checkReadable(networkPath)
        var handle: OpaquePointer?
        do {
            try CFace.call { error, size in
                cface_dlib_embedder_open(shapePredictorPath, networkPath, &handle, error, size)
            }
        } catch .modelInvalid(_, let message) {
            // The C side prefixes the message with the file it failed on.
            let path = message.hasPrefix(shapePredictorPath + ":") ? shapePredictorPath : networkPath
            throw .modelInvalid(path: path, message: String(message.dropFirst(path.count + 2)))
        }
        guard let handle else { throw .modelInvalid(path: networkPath, message: "no handle returned") }
        self.handle = handle
    }

    /// Loads `shape_predictor_5_face_landmarks.dat` and `dlib_face_recognition_resnet_model_v1.dat` from
    /// `modelsDirectory`.
    public convenience init(modelsDirectory: String) throws(FaceVisionError) {
        try self.init(
            shapePredictorPath: CFace.join(modelsDirectory, "shape_predictor_5_face_landmarks.dat"),
            networkPath: CFace.join(modelsDirectory, "dlib_face_recognition_resnet_model_v1.dat")
        )
    }

    deinit { cface_dlib_embedder_close(handle) }

    /// 128 unnormalised floats. Uses `face.box` (dlib re-finds its own 5 points inside it). The corresponding C
    /// function is `cface_dlib_embedder_embed`.
    public func embed(_ face: FaceObservation, in image: BGRImage) throws(FaceVisionError) -> [Float] {
        var out = [Float](repeating: 0, count: 128)
        let box = face.cBox
        try CFace.call(lock: lock, image: image, output: &out) { pixels, buffer, error, size in
            cface_dlib_embedder_embed(handle, pixels, Int32(image.width), Int32(image.height), Int32(image.stride),
                                      box, buffer.baseAddress, error, size)
        }
        return out
    }
}
