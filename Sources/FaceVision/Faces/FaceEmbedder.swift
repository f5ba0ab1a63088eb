/// How two embeddings are compared.
public enum DistanceMetric: String, Sendable, Equatable, Hashable, Codable {
    /// L2 distance of the raw vectors.
    case euclidean
    /// `1 - cos(a, b)`: 0 = same direction, 2 = opposite.
    case cosine

    /// The distance between `a` and `b` (smaller = more alike).
    /// - Precondition: same count.
    public func distance(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "embeddings of different dimension cannot be compared")
        switch self {
        case .euclidean:
            var sum: Float = 0
            for i in a.indices {
                let d = a[i] - b[i]
                sum += d * d
            }
            return sum.squareRoot()
        case .cosine:
            var dot: Float = 0
            var na: Float = 0
            var nb: Float = 0
            for i in a.indices {
                dot += a[i] * b[i]
                na += a[i] * a[i]
                nb += b[i] * b[i]
            }
            let denominator = (na * nb).squareRoot()
            return denominator > 0 ? 1 - dot / denominator : 1
        }
    }
}

/// Identifies an embedding space. Templates record it: embeddings from different descriptors are not comparable,
/// and a model change forces re-enrolment.
public struct EmbedderDescriptor: Sendable, Equatable, Hashable, Codable {
    /// Stable identifier of model + preprocessing, e.g. `"dlib-resnet-v1"`.
    public var id: String
    public var dimension: Int
    public var metric: DistanceMetric
    /// The model's published "same person" threshold on ``metric``'s distance. A starting point, not an
    /// access-control threshold: tune an open-set reject threshold on the site's own data.
    public var defaultThreshold: Float

    public init(id: String, dimension: Int, metric: DistanceMetric, defaultThreshold: Float) {
        self.id = id
        self.dimension = dimension
        self.metric = metric
        self.defaultThreshold = defaultThreshold
    }

    /// The distance between two embeddings of this space.
    public func distance(_ a: [Float], _ b: [Float]) -> Float { metric.distance(a, b) }
}

/// Turns one detected face into a fixed-length vector.
///
/// Implementations may block for tens of milliseconds: call them from a dedicated thread.
public protocol FaceEmbedder: Sendable {
    var descriptor: EmbedderDescriptor { get }
    /// The embedding (``EmbedderDescriptor/dimension`` floats) of `face` as found in `image`.
    func embed(_ face: FaceObservation, in image: BGRImage) throws(FaceVisionError) -> [Float]
}
