/// The delays between attempts to reach a source that is away: a reader's device or pcscd, the camera,
/// a supervised service. The first wait is `initial`, each failure doubles it, it never exceeds
/// `maximum`, and a success (a session that lasted) starts the series over.
///
/// One value type for every reconnect loop, so they all back off the same way and the rule is tested
/// once (`BackoffTests`). Time is not read here: callers sleep `current` on their own clock.
public struct Backoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    /// The wait before the next attempt.
    public private(set) var current: Duration

    /// - Parameters:
    ///   - initial: the first wait (greater than zero).
    ///   - maximum: the longest wait (at least `initial`).
    public init(initial: Duration = .milliseconds(250), maximum: Duration = .seconds(5)) {
        precondition(initial > .zero && maximum >= initial, "a backoff needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        current = initial
    }

    /// An attempt failed: the next wait is twice `current`, at most `maximum`.
    public mutating func advance() {
        current = min(current * 2, maximum)
    }

    /// - Returns: the wait now (`current`), after which the next wait is twice as long.
    public mutating func next() -> Duration {
        defer { advance() }
        return current
    }

    /// The source works again: the next wait is `initial`.
    public mutating func reset() {
        current = initial
    }

    /// A session that lasted `minimumSession` or longer resets the series; a shorter one (the source
    /// opens and fails at once: it flaps) advances it.
    /// - Returns: whether the session counted as lasting.
    @discardableResult
    public mutating func sessionEnded(after duration: Duration, minimumSession: Duration) -> Bool {
        if duration >= minimumSession {
            reset()
            return true
        }
        advance()
        return false
    }
}
