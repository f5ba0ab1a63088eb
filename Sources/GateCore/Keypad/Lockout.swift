/// Limits on wrong PINs at one keypad.
public struct LockoutRules: Sendable, Hashable {
    /// Wrong PINs within `window` that lock the keypad.
    public var maximumFailures: Int
    public var window: Duration
    /// How long the keypad stays locked.
    public var duration: Duration

    public init(maximumFailures: Int = 5, window: Duration = .seconds(60), duration: Duration = .seconds(60)) {
        self.maximumFailures = maximumFailures
        self.window = window
        self.duration = duration
    }
}

/// Counts wrong PINs in a sliding window and locks the keypad when they reach the limit.
///
/// While locked, PIN entries are refused without being checked, so a PIN storm cannot probe the
/// PIN space; cards and faces are unaffected.
public struct Lockout<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public var rules: LockoutRules
    public private(set) var failures: [Instant] = []
    public private(set) var lockedUntil: Instant?

    public init(rules: LockoutRules) {
        self.rules = rules
    }

    public func isLocked(at now: Instant) -> Bool {
        guard let lockedUntil else { return false }
        return now < lockedUntil
    }

    /// Records a wrong PIN.
    /// - Returns: `true` when this failure starts a lockout.
    public mutating func recordFailure(at now: Instant) -> Bool {
        if isLocked(at: now) { return false }
        failures.removeAll { $0.advanced(by: rules.window) <= now }
        failures.append(now)
        guard failures.count >= rules.maximumFailures else { return false }
        failures.removeAll()
        lockedUntil = now.advanced(by: rules.duration)
        return true
    }

    /// A correct PIN clears the count of earlier failures.
    public mutating func recordSuccess() {
        failures.removeAll()
    }
}
