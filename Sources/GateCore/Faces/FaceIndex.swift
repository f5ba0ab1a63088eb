/// How two embeddings are compared.
public enum EmbeddingMetric: String, Sendable, Hashable, Codable, CaseIterable {
    /// Euclidean distance (dlib ResNet: same person below about 0.6).
    case euclidean
    /// 1 − cosine similarity, on L2-normalised vectors (FaceNet, ArcFace-class networks).
    case cosine
}

/// The consented templates held in memory for 1:N matching: one contiguous row-major matrix, scanned
/// with SIMD. Built from the store; nothing in it is ever written anywhere.
public struct FaceIndex: Sendable {
    public let dimension: Int
    public let metric: EmbeddingMetric
    /// Owner of each row.
    public private(set) var residentIDs: [String] = []
    private var matrix: [Float] = []

    public init(dimension: Int, metric: EmbeddingMetric) {
        precondition(dimension > 0 && dimension % 16 == 0, "embedding dimensions are multiples of 16")
        self.dimension = dimension
        self.metric = metric
    }

    public var count: Int { residentIDs.count }

    /// Adds a template. - Returns: `false` when its dimension does not match the index.
    @discardableResult
    public mutating func add(_ embedding: [Float], residentID: String) -> Bool {
        guard embedding.count == dimension else { return false }
        matrix += metric == .cosine ? Self.normalised(embedding) : embedding
        residentIDs.append(residentID)
        return true
    }

    /// The best and second-best *residents* for a probe.
    public struct Match: Sendable, Hashable {
        public var residentID: String
        public var distance: Float
        /// Distance to the nearest template of any other resident (`.infinity` if there is none).
        public var runnerUpDistance: Float

        public init(residentID: String, distance: Float, runnerUpDistance: Float) {
            self.residentID = residentID
            self.distance = distance
            self.runnerUpDistance = runnerUpDistance
        }
    }

    /// Scans every template. - Returns: `nil` for an empty index or a probe of the wrong dimension.
    public func nearest(to probe: [Float]) -> Match? {
        guard !residentIDs.isEmpty, probe.count == dimension else { return nil }
        let query = metric == .cosine ? Self.normalised(probe) : probe
        var best = (row: -1, score: Float.infinity)
        var scores = [Float](repeating: 0, count: residentIDs.count)
        matrix.withUnsafeBufferPointer { rows in
            query.withUnsafeBufferPointer { q in
                let q16 = UnsafeRawPointer(q.baseAddress!)
                for row in 0..<residentIDs.count {
                    let base = UnsafeRawPointer(rows.baseAddress! + row * dimension)
                    var accumulator = SIMD16<Float>()
                    for block in stride(from: 0, to: dimension, by: 16) {
                        let a = base.loadUnaligned(fromByteOffset: block * 4, as: SIMD16<Float>.self)
                        let b = q16.loadUnaligned(fromByteOffset: block * 4, as: SIMD16<Float>.self)
                        if metric == .euclidean {
                            let difference = a - b
                            accumulator += difference * difference
                        } else {
                            accumulator += a * b
                        }
                    }
                    let sum = accumulator.sum()
                    let score = metric == .euclidean ? sum : 1 - sum
                    scores[row] = score
                    if score < best.score { best = (row, score) }
                }
            }
        }
        let winner = residentIDs[best.row]
        var runnerUp = Float.infinity
        for row in scores.indices where scores[row] < runnerUp && residentIDs[row] != winner { runnerUp = scores[row] }
        return Match(residentID: winner, distance: distance(best.score), runnerUpDistance: distance(runnerUp))
    }

    private func distance(_ score: Float) -> Float {
        metric == .euclidean ? score.squareRoot() : score
    }

    static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }
}
