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
    public var residentIDs: [String] { rowOwners.map { owners[Int($0)] } }
    /// Distinct residents, and for each row the index of its owner: rows compare owners as integers.
    private var owners: [String] = []
    private var ownerIndex: [String: Int32] = [:]
    private var rowOwners: [Int32] = []
    private var matrix: [Float] = []

    public init(dimension: Int, metric: EmbeddingMetric) {
        precondition(dimension > 0 && dimension % 16 == 0, "embedding dimensions are multiples of 16")
        self.dimension = dimension
        self.metric = metric
    }

    public var count: Int { rowOwners.count }

    /// Adds a template. - Returns: `false` when its dimension does not match the index.
    @discardableResult
    public mutating func add(_ embedding: [Float], residentID: String) -> Bool {
        guard embedding.count == dimension else { return false }
        matrix += metric == .cosine ? Self.normalised(embedding) : embedding
        let owner = ownerIndex[residentID] ?? {
            owners.append(residentID)
            ownerIndex[residentID] = Int32(owners.count - 1)
            return Int32(owners.count - 1)
        }()
        rowOwners.append(owner)
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

    /// One pass over every template, keeping the nearest row and the nearest row of another resident.
    /// The scan is memory-bound (100,000 × 128 floats = 51 MB per probe), so it reads each row once.
    /// - Returns: `nil` for an empty index or a probe of the wrong dimension.
    public func nearest(to probe: [Float]) -> Match? {
        guard !rowOwners.isEmpty, probe.count == dimension else { return nil }
        let query = metric == .cosine ? Self.normalised(probe) : probe
        var best = (owner: Int32(-1), score: Float.infinity)
        var runnerUp = Float.infinity
        let blocks = dimension / 16
        let euclidean = metric == .euclidean
        matrix.withUnsafeBufferPointer { rows in
            query.withUnsafeBufferPointer { q in
                let probeBase = UnsafeRawPointer(q.baseAddress!)
                for row in 0..<rowOwners.count {
                    let base = UnsafeRawPointer(rows.baseAddress! + row * dimension)
                    var even = SIMD16<Float>(), odd = SIMD16<Float>()
                    var block = 0
                    while block < blocks {
                        let a = base.loadUnaligned(fromByteOffset: block * 64, as: SIMD16<Float>.self)
                        let b = probeBase.loadUnaligned(fromByteOffset: block * 64, as: SIMD16<Float>.self)
                        if euclidean {
                            let d = a - b
                            if block & 1 == 0 { even += d * d } else { odd += d * d }
                        } else {
                            if block & 1 == 0 { even += a * b } else { odd += a * b }
                        }
                        block += 1
                    }
                    let sum = (even + odd).sum()
                    let score = euclidean ? sum : 1 - sum
                    let owner = rowOwners[row]
                    if score < best.score {
                        if owner != best.owner { runnerUp = best.score }
                        best = (owner, score)
                    } else if score < runnerUp && owner != best.owner {
                        runnerUp = score
                    }
                }
            }
        }
        return Match(residentID: owners[Int(best.owner)], distance: distance(best.score), runnerUpDistance: distance(runnerUp))
    }

    private func distance(_ score: Float) -> Float {
        metric == .euclidean ? score.squareRoot() : score
    }

    static func normalised(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }
}
