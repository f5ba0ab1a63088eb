#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#endif

/// An axis-aligned box in image pixels.
public struct FaceBox: Sendable, Equatable, Hashable {
    public var x: Float
    public var y: Float
    public var width: Float
    public var height: Float

    public init(x: Float, y: Float, width: Float, height: Float) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var center: SIMD2<Float> { SIMD2(x + width / 2, y + height / 2) }
    public var area: Float { max(0, width) * max(0, height) }
}

/// The five landmarks CenterFace emits, in its order. "Right" and "left" are the subject's: the right eye
/// appears on the image's left in an unmirrored photo.
public struct FaceLandmarks: Sendable, Equatable, Hashable {
    public var rightEye: SIMD2<Float>
    public var leftEye: SIMD2<Float>
    public var nose: SIMD2<Float>
    public var rightMouthCorner: SIMD2<Float>
    public var leftMouthCorner: SIMD2<Float>

    public init(
        rightEye: SIMD2<Float>,
        leftEye: SIMD2<Float>,
        nose: SIMD2<Float>,
        rightMouthCorner: SIMD2<Float>,
        leftMouthCorner: SIMD2<Float>
    ) {
        self.rightEye = rightEye
        self.leftEye = leftEye
        self.nose = nose
        self.rightMouthCorner = rightMouthCorner
        self.leftMouthCorner = leftMouthCorner
    }

    /// The points in detector order: right eye, left eye, nose, right mouth corner, left mouth corner.
    public var points: [SIMD2<Float>] { [rightEye, leftEye, nose, rightMouthCorner, leftMouthCorner] }
}

/// One face found by a ``FaceDetector``.
public struct FaceObservation: Sendable, Equatable {
    public var box: FaceBox
    public var landmarks: FaceLandmarks
    /// Detector confidence, 0…1.
    public var score: Float

    public init(box: FaceBox, landmarks: FaceLandmarks, score: Float) {
        self.box = box
        self.landmarks = landmarks
        self.score = score
    }

    /// Distance between the eye centres in pixels: the usual "face size" gate (e.g. require >= 40 px).
    public var interOcularDistance: Float {
        let d = landmarks.leftEye - landmarks.rightEye
        return (d * d).sum().squareRoot()
    }

    /// In-plane rotation in degrees: the angle of the eye line against the image x axis (0 = level,
    /// positive = the subject's left eye lower in the image, i.e. clockwise on screen).
    public var rollDegrees: Float {
        let d = landmarks.leftEye - landmarks.rightEye
        return atan2f(d.y, d.x) * 180 / .pi
    }

    /// A rough yaw estimate in degrees from the nose's sideways offset against the eye midpoint, in the
    /// roll-corrected eye frame: 0 = frontal, positive = nose towards the image right (the subject turned to
    /// their left in an unmirrored image). Assumes the nose tip sits half an inter-ocular distance in front of
    /// the eyes; good for "turn your head" challenges and frontal gating, not for metrology. Saturates near ±70°.
    public var yawDegrees: Float {
        let iod = interOcularDistance
        guard iod > 0 else { return 0 }
        let eyeAxis = (landmarks.leftEye - landmarks.rightEye) / iod
        let mid = (landmarks.leftEye + landmarks.rightEye) / 2
        let offset = ((landmarks.nose - mid) * eyeAxis).sum() / iod
        return atanf(2 * offset) * 180 / .pi
    }
}
