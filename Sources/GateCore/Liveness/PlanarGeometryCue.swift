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

/// The geometry cue: a flat picture moved, tilted or bent slightly in front of the camera keeps its landmarks
/// related by one plane homography; a real head that turns even a little does not, because the nose tip
/// stands about half an eye distance out of the plane of the eyes and mouth corners.
///
/// For every pair of frames of one walk-up, the homography of the four planar points is fitted exactly and
/// the nose of the earlier frame is carried through it; the residual (in eye distances of the later frame)
/// is what the flat-picture hypothesis cannot explain. A turn of about 8–10° gives a residual near 0.08.
/// An exact four-point fit passes the detector's landmark jitter on to the prediction, so one pair of frames
/// can show a residual by chance: the cue says `live` only when `agreeingPairs` pairs (default 3) do.
///
/// Limits (docs/face.md): a *video* of the resident, or a photo bent around a cylinder and turned, moves
/// the nose out of the plane as a head does and defeats it; a resident who holds perfectly still is
/// `undecided` until they move. It is the weaker cue; infrared is the strong one.
public struct PlanarGeometryCue: Sendable, Hashable {
    /// A nose residual at least this large (in eye distances) between two frames says "not flat".
    public var liveResidual: Double
    /// Pairs of frames that must each show at least `liveResidual`.
    public var agreeingPairs: Int
    /// Frames needed before the cue may say `attack`.
    public var minimumFrames: Int
    /// Landmark sets kept per walk-up (the oldest are dropped).
    public var maximumFrames: Int

    public init(liveResidual: Double = 0.08, agreeingPairs: Int = 3, minimumFrames: Int = 4, maximumFrames: Int = 8) {
        self.liveResidual = liveResidual
        self.agreeingPairs = agreeingPairs
        self.minimumFrames = minimumFrames
        self.maximumFrames = maximumFrames
    }

    /// The nose residual between two frames, in eye distances of `later`; `nil` when no homography fits.
    public static func residual(from earlier: FivePoints, to later: FivePoints) -> Double? {
        guard later.interOcular > 0, let h = Homography(from: earlier.planar, to: later.planar),
              let predicted = h.apply(earlier.nose) else { return nil }
        let d = predicted - later.nose
        return (d * d).sum().squareRoot() / later.interOcular
    }

    /// The residuals of every pair of the frames, largest first.
    public static func residuals(_ frames: [FivePoints]) -> [Double] {
        var all: [Double] = []
        for i in frames.indices {
            for j in frames.indices where j > i {
                if let r = residual(from: frames[i], to: frames[j]) { all.append(r) }
            }
        }
        return all.sorted(by: >)
    }

    /// The largest residual over every pair of the frames.
    public static func largestResidual(_ frames: [FivePoints]) -> Double { residuals(frames).first ?? 0 }

    /// The residual that `agreeingPairs` pairs reach: what the verdict compares with `liveResidual`.
    public func agreedResidual(_ frames: [FivePoints]) -> Double {
        let all = Self.residuals(frames)
        return all.count >= agreeingPairs ? all[agreeingPairs - 1] : 0
    }

    /// - Returns: `live` once `agreeingPairs` pairs of frames depart from one plane by `liveResidual`; `attack`
    ///   when at least `minimumFrames` frames do not; `undecided` before that.
    public func verdict(_ frames: [FivePoints]) -> LivenessVerdict {
        guard frames.count >= 2 else { return .undecided }
        if agreedResidual(frames) >= liveResidual { return .live }
        return frames.count >= minimumFrames ? .attack : .undecided
    }
}
