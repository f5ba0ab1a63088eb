/// Five face landmarks in image pixels, in the detector's order, without depending on the vision module.
public struct FivePoints: Sendable, Hashable {
    public var rightEye: SIMD2<Double>
    public var leftEye: SIMD2<Double>
    public var nose: SIMD2<Double>
    public var rightMouth: SIMD2<Double>
    public var leftMouth: SIMD2<Double>

    public init(rightEye: SIMD2<Double>, leftEye: SIMD2<Double>, nose: SIMD2<Double>, rightMouth: SIMD2<Double>,
                leftMouth: SIMD2<Double>) {
        self.rightEye = rightEye
        self.leftEye = leftEye
        self.nose = nose
        self.rightMouth = rightMouth
        self.leftMouth = leftMouth
    }

    /// The four points that lie (nearly) in one plane on a real face: eyes and mouth corners.
    public var planar: [SIMD2<Double>] { [rightEye, leftEye, rightMouth, leftMouth] }
    public var interOcular: Double {
        let d = leftEye - rightEye
        return (d * d).sum().squareRoot()
    }
}

/// A plane-to-plane projective map (3×3, row-major, h33 = 1).
public struct Homography: Sendable, Hashable {
    public var m: [Double]

    /// The exact homography taking four points to four others (direct linear transform, Gaussian elimination
    /// with partial pivoting). - Returns: `nil` when three of the points are (nearly) collinear.
    public init?(from source: [SIMD2<Double>], to target: [SIMD2<Double>]) {
        guard source.count == 4, target.count == 4 else { return nil }
        // Normalise both sets (centroid at the origin, mean distance √2) for a well-conditioned system.
        func normaliser(_ points: [SIMD2<Double>]) -> (scale: Double, centre: SIMD2<Double>) {
            let centre = points.reduce(SIMD2<Double>(0, 0), +) / Double(points.count)
            let spread = points.map { (($0 - centre) * ($0 - centre)).sum().squareRoot() }.reduce(0, +) / Double(points.count)
            return (spread > 1e-9 ? 2.0.squareRoot() / spread : 1, centre)
        }
        let (ss, sc) = normaliser(source), (ts, tc) = normaliser(target)
        var a = [[Double]](repeating: [Double](repeating: 0, count: 9), count: 8)
        for i in 0..<4 {
            let p = (source[i] - sc) * ss, q = (target[i] - tc) * ts
            let row1: [Double] = [p.x, p.y, 1, 0, 0, 0, -q.x * p.x, -q.x * p.y, q.x]
            let row2: [Double] = [0, 0, 0, p.x, p.y, 1, -q.y * p.x, -q.y * p.y, q.y]
            a[2 * i] = row1
            a[2 * i + 1] = row2
        }
        for column in 0..<8 {
            guard let pivot = (column..<8).max(by: { abs(a[$0][column]) < abs(a[$1][column]) }), abs(a[pivot][column]) > 1e-10
            else { return nil }
            a.swapAt(column, pivot)
            for row in 0..<8 where row != column {
                let factor = a[row][column] / a[column][column]
                if factor != 0 { for k in column..<9 { a[row][k] -= factor * a[column][k] } }
            }
        }
        let h = (0..<8).map { a[$0][8] / a[$0][$0] } + [1]
        // Undo the normalisation: H = T⁻¹ · Hn · S.
        let s: [Double] = [ss, 0, -ss * sc.x, 0, ss, -ss * sc.y, 0, 0, 1]
        let tInverse: [Double] = [1 / ts, 0, tc.x, 0, 1 / ts, tc.y, 0, 0, 1]
        let full = Self.multiply(tInverse, Self.multiply(h, s))
        guard abs(full[8]) > 1e-12 else { return nil }
        m = full.map { $0 / full[8] }
    }

    public func apply(_ p: SIMD2<Double>) -> SIMD2<Double>? {
        let w = m[6] * p.x + m[7] * p.y + m[8]
        guard abs(w) > 1e-12 else { return nil }
        return SIMD2((m[0] * p.x + m[1] * p.y + m[2]) / w, (m[3] * p.x + m[4] * p.y + m[5]) / w)
    }

    /// 3×3 row-major product.
    public static func multiply(_ a: [Double], _ b: [Double]) -> [Double] {
        var product = [Double](repeating: 0, count: 9)
        for row in 0..<3 {
            for column in 0..<3 {
                var sum = 0.0
                for k in 0..<3 { sum += a[row * 3 + k] * b[k * 3 + column] }
                product[row * 3 + column] = sum
            }
        }
        return product
    }
}

/// The geometry cue: a flat picture moved, tilted or rescaled in front of the camera keeps its landmarks
/// related by one plane homography; a real head that turns even a little does not, because the nose tip
/// stands about half an eye distance out of the plane of the eyes and mouth corners.
///
/// Each frame's four planar points (eyes, mouth corners) are mapped by the homography that takes them to one
/// fixed layout (eyes at (±0.5, 0), mouth corners at (±0.4, 1): eye distance 1), and the nose is carried along:
/// its *plane position*. However a flat picture is moved, turned or rescaled, that position does not change (it
/// is a projective invariant of five coplanar points); a real head's nose moves in it as the head turns or nods
/// (about 0.08 for 8–10°). The cue splits the walk-up's frames (the last `maximumFrames`) at every point into an
/// earlier and a later run and compares the mean plane position of the nose before and after: live when the
/// largest difference reaches `liveResidual`. Means over the runs damp the detector's landmark jitter, which an
/// exact comparison of two frames doubles: comparing pairs (the rule before, "3 pairs of frames ≥ 0.08")
/// accepted more flat pictures the longer an attacker kept one in front of the camera (docs/face.md#liveness).
///
/// Limits (docs/face.md): a *video* of the resident, or a photo bent around a cylinder and turned, moves
/// the nose out of the plane as a head does and defeats it; a resident who holds perfectly still is
/// `undecided` until they move. It is the weaker cue; infrared is the strong one.
public struct PlanarGeometryCue: Sendable, Hashable {
    /// A difference of the nose's mean plane position (in eye distances) at least this large says "not flat".
    public var liveResidual: Double
    /// Frames needed before the cue may say `live`.
    public var minimumLiveFrames: Int
    /// Frames needed before the cue may say `attack`.
    public var minimumFrames: Int
    /// Landmark sets kept per walk-up (the oldest are dropped).
    public var maximumFrames: Int

    public init(liveResidual: Double = 0.08, minimumLiveFrames: Int = 3, minimumFrames: Int = 4, maximumFrames: Int = 12) {
        self.liveResidual = liveResidual
        self.minimumLiveFrames = minimumLiveFrames
        self.minimumFrames = minimumFrames
        self.maximumFrames = maximumFrames
    }

    /// Where the planar points of every frame are taken: eyes at (±0.5, 0), mouth corners at (±0.4, 1).
    static let layout: [SIMD2<Double>] = [SIMD2(-0.5, 0), SIMD2(0.5, 0), SIMD2(-0.4, 1), SIMD2(0.4, 1)]

    /// The nose in the plane of the eyes and mouth corners (eye distances of the fixed layout); `nil` when the
    /// planar points fit no homography (three of them in a line).
    public static func planeNose(_ frame: FivePoints) -> SIMD2<Double>? {
        Homography(from: frame.planar, to: layout)?.apply(frame.nose)
    }

    /// The nose residual between two frames, in eye distances of `later`: the first frame's nose carried by the
    /// homography of the planar points; `nil` when no homography fits. (How far apart two photos' head poses are.)
    public static func residual(from earlier: FivePoints, to later: FivePoints) -> Double? {
        guard later.interOcular > 0, let h = Homography(from: earlier.planar, to: later.planar),
              let predicted = h.apply(earlier.nose) else { return nil }
        let d = predicted - later.nose
        return (d * d).sum().squareRoot() / later.interOcular
    }

    /// The largest difference between the mean plane position of the nose in an earlier and a later run of the
    /// frames, over every split of them (0 for fewer than two frames): what the verdict compares with `liveResidual`.
    public static func departure(_ frames: [FivePoints]) -> Double { departure(noses: frames.compactMap(planeNose)) }

    /// ``departure(_:)`` of frames whose nose is already in the plane (``planeNose(_:)``).
    public static func departure(noses: [SIMD2<Double>]) -> Double {
        guard noses.count >= 2 else { return 0 }
        let total = noses.reduce(SIMD2<Double>(0, 0), +)
        var before = SIMD2<Double>(0, 0), largest = 0.0
        for split in 1..<noses.count {
            before += noses[split - 1]
            let d = before / Double(split) - (total - before) / Double(noses.count - split)
            largest = max(largest, (d * d).sum().squareRoot())
        }
        return largest
    }

    /// - Returns: `live` once at least `minimumLiveFrames` frames show the nose leaving the plane by `liveResidual`;
    ///   `attack` when at least `minimumFrames` frames do not; `undecided` before that. A frame whose planar points
    ///   fit no homography is no evidence either way.
    public func verdict(_ frames: [FivePoints]) -> LivenessVerdict { verdict(noses: frames.compactMap(Self.planeNose)) }

    /// ``verdict(_:)`` of frames whose nose is already in the plane (``planeNose(_:)``).
    public func verdict(noses: [SIMD2<Double>]) -> LivenessVerdict {
        if noses.count >= minimumLiveFrames, Self.departure(noses: noses) >= liveResidual { return .live }
        return noses.count >= minimumFrames ? .attack : .undecided
    }
}
