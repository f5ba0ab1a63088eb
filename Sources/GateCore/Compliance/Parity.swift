extension AccessMethod {
    /// The methods the parity report compares (R2): the alternatives must be as convenient as face.
    public static let parityMethods: [AccessMethod] = [.face, .card, .pin, .visitor]
}

extension Duration {
    /// Whole milliseconds, rounded down; never negative.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return max(0, seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}

/// One decision as the parity report counts it.
public struct ParityDecision: Sendable, Hashable {
    public var method: AccessMethod
    public var granted: Bool
    /// `nil` for decisions recorded before latency was (or collapsed denials).
    public var latencyMs: Int64?
    /// More than 1 for a collapsed flood window of denials.
    public var count: Int

    public init(method: AccessMethod, granted: Bool, latencyMs: Int64?, count: Int = 1) {
        self.method = method
        self.granted = granted
        self.latencyMs = latencyMs
        self.count = count
    }
}

/// Per method: how many decisions, how fast (p50/p95 from first input to decision) and how many denied (R2).
public struct ParityRow: Sendable, Hashable, Codable {
    public var method: String
    public var decisions: Int
    public var granted: Int
    public var denied: Int
    /// denied / decisions; 0 without decisions.
    public var denialRate: Double
    /// Decisions with a recorded latency (the percentiles are over these).
    public var timed: Int
    public var p50Ms: Int64?
    public var p95Ms: Int64?

    /// Nearest-rank percentile (`p` in 0...100) of sorted values.
    public static func percentile(_ sorted: [Int64], _ p: Double) -> Int64? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }

    public static func rows(_ decisions: [ParityDecision]) -> [ParityRow] {
        AccessMethod.parityMethods.map { method in
            let mine = decisions.filter { $0.method == method }
            let total = mine.reduce(0) { $0 + $1.count }
            let granted = mine.filter(\.granted).reduce(0) { $0 + $1.count }
            let latencies = mine.compactMap(\.latencyMs).sorted()
            return ParityRow(method: method.rawValue, decisions: total, granted: granted, denied: total - granted,
                             denialRate: total == 0 ? 0 : Double(total - granted) / Double(total), timed: latencies.count,
                             p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95))
        }
    }
}
