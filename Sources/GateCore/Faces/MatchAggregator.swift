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
    /// Adaptive agreement: a frame this close (or closer) counts as enough on its own, when liveness holds and
    /// every face frame in the window agreed; `nil` keeps the fixed N-of-M rule. Borderline distances (between this and `threshold`) still need
    /// `requiredAgreeing` frames.
    public var strongDistance: Float?
    /// Face frames that may match while liveness has not held before the walk-up is refused as
    /// `livenessFailed`.
    public var livenessPatience: Int

    public init(threshold: Float, margin: Float = 0.05, requiredAgreeing: Int = 3, windowFrames: Int = 5,
                window: Duration = .seconds(2), cooldown: Duration = .seconds(5), strongDistance: Float? = nil,
                livenessPatience: Int = 10) {
        self.strongDistance = strongDistance
        self.livenessPatience = livenessPatience
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
    /// Frames matched a resident, but the door's liveness policy did not hold over the walk-up (a photo, a
    /// screen, a print, or a head that never moved). Recorded without the resident.
    case livenessFailed
}

/// N-of-M agreement within a time window, plus a cooldown: never "best match wins" on one frame.
public struct MatchAggregator<Instant: InstantProtocol & Sendable>: Sendable where Instant.Duration == Duration {
    public var rules: MatchRules
    /// Recent frames with a face: the resident each one matched, or `nil`.
    private var recent: [(at: Instant, residentID: String?, distance: Float)] = []
    /// Frames in a row in which the match rule held but liveness did not.
    private var unlived = 0
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

    /// Feeds one frame in which a face passed the quality gates (no liveness check, fixed N-of-M).
    public mutating func observe(_ residentID: String?, at now: Instant) -> MatchVerdict {
        observe(residentID, distance: .infinity, liveness: .live, at: now)
    }

    /// Feeds one frame in which a face passed the quality gates: its candidate (``candidate(for:)``), the
    /// candidate's distance, and the walk-up's liveness so far (`.live` when the door checks none).
    /// A match needs `requiredAgreeing` frames, or one within `strongDistance`, *and* liveness.
    public mutating func observe(_ residentID: String?, distance: Float, liveness: LivenessVerdict, at now: Instant) -> MatchVerdict {
        recent.removeAll { $0.at.advanced(by: rules.window) < now }
        if let quietUntil, now < quietUntil {
            // Still cooling down from a decision: a different resident may be decided, the same one not.
            guard let residentID, lastDecided != .some(residentID) else { return .pending }
        }
        recent.append((now, residentID, distance))
        if recent.count > rules.windowFrames { recent.removeFirst(recent.count - rules.windowFrames) }

        // A full window of mostly faces that matched nobody is a stranger's presence, decided before a strong
        // single frame may decide (with the fixed rule the two cannot both hold); a resident who follows is
        // matched on the next frame.
        let misses = recent.filter { $0.residentID == nil }.count
        if recent.count >= rules.windowFrames, misses > rules.windowFrames - rules.requiredAgreeing {
            decide(nil, at: now)
            return .noMatch
        }
        var votes: [String: (count: Int, best: Float)] = [:]
        for frame in recent {
            if let id = frame.residentID {
                let vote = votes[id, default: (0, .infinity)]
                votes[id] = (vote.count + 1, min(vote.best, frame.distance))
            }
        }
        if let (winner, vote) = votes.max(by: { $0.value.count < $1.value.count }) {
            // One strong frame decides only in a window where every face frame agreed: after a stranger's or
            // another resident's frames, the fixed rule applies, as before.
            let unanimous = vote.count == recent.count
            let strong = unanimous && (rules.strongDistance.map { vote.best <= $0 } ?? false)
            if vote.count >= rules.requiredAgreeing || strong {
                if liveness == .live {
                    decide(winner, at: now)
                    return .matched(residentID: winner)
                }
                unlived += 1
                if unlived >= rules.livenessPatience {
                    decide(winner, at: now)
                    return .livenessFailed
                }
                return .pending
            }
        }
        return .pending
    }

    /// No face in the frame: nothing to decide; the window simply ages.
    public mutating func observeEmptyFrame(at now: Instant) {
        recent.removeAll { $0.at.advanced(by: rules.window) < now }
        if recent.isEmpty { unlived = 0 }
    }

    private mutating func decide(_ residentID: String?, at now: Instant) {
        recent.removeAll()
        unlived = 0
        quietUntil = now.advanced(by: rules.cooldown)
        lastDecided = .some(residentID)
    }
}
