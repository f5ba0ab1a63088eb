/// Finds faces in a frame.
///
/// Implementations may be slow (tens of milliseconds) and block: call them from a dedicated thread, not the
/// cooperative pool.
public protocol FaceDetector: Sendable {
    /// The faces in `image`, highest score first.
    func detect(in image: BGRImage) throws(FaceVisionError) -> [FaceObservation]
}
