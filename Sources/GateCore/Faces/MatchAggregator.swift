/// Rules for turning per-frame matches into one decision.
public struct MatchRules: Sendable, Hashable {
    /// A frame matches a resident only below this distance (open-set threshold).
    public var threshold: Float
    /// …and only when the nearest *other* resident is at least this much farther away.
    public var margin: Float
    /// Frames that must agree on the same resident…
    public var requiredAgreeing: Int
    /// …among the last this many frames with a face…
    public var windowFrames: Int
    /// …seen within this time.
    public var window: Duration
    /// After a decision, the same face is not decided again for this long (no repeated events while
    /// someone stands in front of the camera).
    public var cooldown: Duration

    public init(threshold: Float, margin: Float = 0.05, requiredAgreeing: Int = 3, windowFrames: Int = 5,
                window: Duration = .seconds(2), cooldown: Duration = .seconds(5)) {
        self.threshold = threshold
        self.margin = margin
        self.requiredAgreeing = requiredAgreeing
        self.windowFrames = windowFrames
        self.window = window
        self.cooldown = cooldown
    }
}

/// What the recogniser concluded after a frame.
public enum MatchVerdict: Sendable, Hashable {
    /// Not enough evidence yet.
    case pending
    /// Enough frames agree on this resident.
    case matched(residentID: String)
    /// A face was present for a full window and matched nobody. Only this verdict, never any data
    /// about the face, is recorded.
    case noMatch
}

/// N-of-M agreement within a time window, plus a cooldown: never "best match wins" on one frame.
public struct MatchAggregator<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    public var rules: MatchRules
    /// Recent frames with a face: the resident each one matched, or `nil`.
    private var recent: [(at: Instant, residentID: String?)] = []
    private var quietUntil: Instant?
    private var lastDecided: String??

    public init(rules: MatchRules) {
        self.rules = rules
    }

    /// Classifies one frame's nearest match against the rules.
    public func candidate(for match: FaceIndex.Match?) -> String? {
        guard let match, match.distance < rules.threshold, match.runnerUpDistance - match.distance >= rules.margin else {
            return nil
        }
        return match.residentID
    }

    /// Feeds one frame in which a face passed the quality gates.
    public mutating func observe(_ residentID: String?, at now: Instant) -> MatchVerdict {
        recent.removeAll { $0.at.advanced(by: rules.window) < now }
        if let quietUntil, now < quietUntil {
            // Still cooling down from a decision: a different resident may be decided, the same one not.
            guard let residentID, lastDecided != .some(residentID) else { return .pending }
        }
        recent.append((now, residentID))
        if recent.count > rules.windowFrames { recent.removeFirst(recent.count - rules.windowFrames) }

        var votes: [String: Int] = [:]
        for frame in recent { if let id = frame.residentID { votes[id, default: 0] += 1 } }
        if let (winner, count) = votes.max(by: { $0.value < $1.value }), count >= rules.requiredAgreeing {
            decide(winner, at: now)
            return .matched(residentID: winner)
        }
        let misses = recent.filter { $0.residentID == nil }.count
        if recent.count >= rules.windowFrames, misses > rules.windowFrames - rules.requiredAgreeing {
            decide(nil, at: now)
            return .noMatch
        }
        return .pending
    }

    /// No face in the frame: nothing to decide; the window simply ages.
    public mutating func observeEmptyFrame(at now: Instant) {
        recent.removeAll { $0.at.advanced(by: rules.window) < now }
    }

    private mutating func decide(_ residentID: String?, at now: Instant) {
        recent.removeAll()
        quietUntil = now.advanced(by: rules.cooldown)
        lastDecided = .some(residentID)
    }
}
