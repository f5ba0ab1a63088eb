public import GateCore
public import Logging

/// Throttles one reader's input to what people can produce, so a reader that types faster (a BadUSB
/// device posing as a keyboard-wedge reader and typing thousands of UIDs, a stuck key, a jammed
/// reader) cannot flood the decision loop, the audit log or the journal.
///
/// Cards, keys and malformed entries each have a token bucket (`TokenBucket`); input beyond it is
/// dropped. The start and the end of a flood are logged once each, the end with the number dropped.
/// What does get through is decided and recorded as usual, where repeated denials collapse into one
/// counted entry per window (`DenialCollapser`).
public final class ReaderFloodGuard: Sendable {
    public struct Rules: Sendable, Hashable {
        public var cards: TokenBucket<ContinuousClock.Instant>.Rules
        public var keys: TokenBucket<ContinuousClock.Instant>.Rules
        public var malformed: TokenBucket<ContinuousClock.Instant>.Rules

        /// Cards: 10 at once, then 2 a second. Keys: 32 at once, then 8 a second (a fast typist). Malformed
        /// entries (logged, never decided): 5 at once, then 1 every 10 seconds.
        public init(cards: TokenBucket<ContinuousClock.Instant>.Rules = .init(burst: 10, perSecond: 2),
                    keys: TokenBucket<ContinuousClock.Instant>.Rules = .init(burst: 32, perSecond: 8),
                    malformed: TokenBucket<ContinuousClock.Instant>.Rules = .init(burst: 5, perSecond: 0.1)) {
            self.cards = cards
            self.keys = keys
            self.malformed = malformed
        }
    }

    struct State: Sendable {
        var cards: TokenBucket<ContinuousClock.Instant>
        var keys: TokenBucket<ContinuousClock.Instant>
        var malformed: TokenBucket<ContinuousClock.Instant>
        var dropped = 0
    }

    let reader: String
    let logger: Logger
    private let state: Locked<State>
    private let clock = ContinuousClock()

    public init(reader: String, rules: Rules = Rules(), logger: Logger) {
        self.reader = reader
        var logger = logger
        logger[metadataKey: "reader.name"] = "\(reader)"
        self.logger = logger
        state = Locked(State(cards: TokenBucket(rules: rules.cards), keys: TokenBucket(rules: rules.keys),
                             malformed: TokenBucket(rules: rules.malformed)))
    }

    /// Inputs dropped since the last one that got through.
    public var dropped: Int { state.value.dropped }

    /// `sink` behind this guard: cards and keys within the rate pass, the rest are dropped.
    public func guarding(_ sink: @escaping ReaderSink) -> ReaderSink {
        { [self] input in
            if admit(input) { sink(input) }
        }
    }

    /// Whether a malformed entry may be logged (it is never decided); beyond the rate it is only counted.
    public func admitMalformed() -> Bool {
        take { $0.malformed.take(at: $1) }
    }

    /// Whether `input` is within the rate.
    public func admit(_ input: GateInput) -> Bool {
        switch input {
        case .card: take { $0.cards.take(at: $1) }
        case .key: take { $0.keys.take(at: $1) }
        default: true
        }
    }

    private func take(_ bucket: (inout State, ContinuousClock.Instant) -> Bool) -> Bool {
        let now = clock.now
        let (admitted, floodStarted, floodEnded) = state.withLockedValue { state -> (Bool, Bool, Int) in
            if bucket(&state, now) {
                defer { state.dropped = 0 }
                return (true, false, state.dropped)
            }
            state.dropped += 1
            return (false, state.dropped == 1, 0)
        }
        if floodStarted {
            logger.warning("reader input faster than people produce it; dropping input beyond the rate")
        }
        if floodEnded > 0 {
            logger.notice("reader input back within the rate", metadata: ["reader.dropped": "\(floodEnded)"])
        }
        return admitted
    }
}
