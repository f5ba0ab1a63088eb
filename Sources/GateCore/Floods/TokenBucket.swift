/// A token bucket: at most `burst` events at once, refilled at `perSecond` events per second.
///
/// Used per reader so that a device typing card numbers faster than people can present cards (a
/// BadUSB wedge, a jammed reader) is throttled before its input reaches the decision loop.
public struct TokenBucket<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public struct Rules: Sendable, Hashable {
        public var burst: Int
        public var perSecond: Double

        /// Defaults: 10 at once, then 2 per second; a person presents a card at most every second or so.
        public init(burst: Int = 10, perSecond: Double = 2) {
            self.burst = max(1, burst)
            self.perSecond = max(0.001, perSecond)
        }
    }

    public var rules: Rules
    private var tokens: Double
    private var updated: Instant?

    public init(rules: Rules = Rules()) {
        self.rules = rules
        tokens = Double(rules.burst)
    }

    /// Takes one token. - Returns: `false` when the bucket is empty (the event is to be dropped).
    public mutating func take(at now: Instant) -> Bool {
        if let updated {
            let elapsed = updated.duration(to: now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(Double(rules.burst), tokens + max(0, seconds) * rules.perSecond)
        }
        updated = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
