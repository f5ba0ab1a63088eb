/// Limits on wrong PINs: how many lock a keypad or a door, and the escalating back-off.
///
/// Wrong PINs are counted in a sliding `window`. `failures` wrong PINs within it lock the scope for
/// `firstLockout`; every further lockout in the same streak doubles it, up to `maximumLockout`. The
/// streak (and the count) starts over only after `reset` passes without a wrong PIN. A correct PIN never
/// clears the count: only its own attempt is taken back.
public struct LockoutRules: Sendable, Hashable {
    /// Wrong PINs within `window` at one keypad that lock that keypad.
    public var failures: Int
    /// Wrong PINs within `window` at all keypads of one door that lock every keypad of the door.
    public var doorFailures: Int
    public var window: Duration
    /// The first lockout of a streak; each further one doubles, capped at `maximumLockout`.
    public var firstLockout: Duration
    public var maximumLockout: Duration
    /// A quiet period without wrong PINs after which the back-off starts over.
    public var reset: Duration

    public init(failures: Int = 5, doorFailures: Int = 10, window: Duration = .seconds(3600), firstLockout: Duration = .seconds(60),
                maximumLockout: Duration = .seconds(3600), reset: Duration = .seconds(86_400)) {
        self.failures = failures
        self.doorFailures = doorFailures
        self.window = window
        self.firstLockout = firstLockout
        self.maximumLockout = max(maximumLockout, firstLockout)
        self.reset = reset
    }

    /// The limit of one scope.
    public func failures(for scope: GuessScope) -> Int {
        switch scope {
        case .keypad: failures
        case .door: doorFailures
        }
    }

    /// The lockout after `level` earlier lockouts of the streak.
    public func lockout(level: Int) -> Duration {
        var duration = firstLockout
        for _ in 0..<min(level, 62) where duration < maximumLockout { duration = duration * 2 }
        return min(duration, maximumLockout)
    }
}

/// Where wrong PINs are counted. Every PIN attempt is charged to each scope it passes through; a locked
/// scope refuses entries at every keypad inside it. A site scope (several gates) slots in as a new case.
public enum GuessScope: Sendable, Hashable, Codable {
    /// One keypad of a door: an evdev device path, or `simulated`.
    case keypad(door: String, name: String)
    /// Every keypad of one door.
    case door(String)

    /// `keypad` or `door`, safe to log.
    public var kind: String {
        switch self {
        case .keypad: "keypad"
        case .door: "door"
        }
    }

    /// The door the scope lies in.
    public var door: String {
        switch self {
        case .keypad(let door, _), .door(let door): door
        }
    }
}

/// The wrong-PIN count and back-off of one scope, in wall time so that it can be persisted and survive a
/// restart. A value type: the caller injects the time and stores the result.
public struct GuessCounter: Sendable, Hashable, Codable {
    /// Wrong PINs within the window, oldest first.
    public private(set) var failures: [WallTime] = []
    /// Lockouts so far in the current streak.
    public private(set) var level = 0
    public private(set) var lockedUntil: WallTime?
    public private(set) var lastFailure: WallTime?

    public init() {}

    public var isEmpty: Bool { self == GuessCounter() }

    public func isLocked(at now: WallTime) -> Bool {
        guard let lockedUntil else { return false }
        return now < lockedUntil
    }

    /// Drops what time has made irrelevant: failures out of the window, an ended lockout, a streak after
    /// the quiet period. Also repairs a wall clock that went backwards (no time lies beyond now plus the
    /// longest lockout), so a clock step cannot lock a keypad for longer than `maximumLockout`.
    public mutating func settle(at now: WallTime, rules: LockoutRules) {
        let latest = now.advanced(by: rules.maximumLockout)
        if let until = lockedUntil, latest < until { lockedUntil = latest }
        if let last = lastFailure, now < last { lastFailure = now }
        failures = failures.map { min($0, now) }.filter { now < $0.advanced(by: rules.window) }
        if let until = lockedUntil, until <= now { lockedUntil = nil }
        if lockedUntil == nil, let last = lastFailure, last.advanced(by: rules.reset) <= now {
            self = GuessCounter()
        }
    }

    /// Records a wrong PIN at a scope whose limit is `limit`.
    /// - Returns: `true` when this failure starts a lockout.
    public mutating func recordFailure(at now: WallTime, limit: Int, rules: LockoutRules) -> Bool {
        settle(at: now, rules: rules)
        if isLocked(at: now) { return false }
        failures.append(now)
        lastFailure = now
        guard failures.count >= limit else { return false }
        failures.removeAll()
        lockedUntil = now.advanced(by: rules.lockout(level: level))
        level += 1
        return true
    }
}

/// The counters of every scope one keypad attempt passes through.
///
/// An attempt is *charged* before its PIN is checked (and persisted), so killing the daemon during the
/// check cannot win a free guess; when the PIN turns out to belong to a resident, the caller puts the
/// counters back as they were before the charge. Nothing else ever lowers a count.
public struct PinGuessLimits: Sendable, Hashable {
    public var rules: LockoutRules
    public private(set) var counters: [GuessScope: GuessCounter]

    public init(rules: LockoutRules, counters: [GuessScope: GuessCounter] = [:]) {
        self.rules = rules
        self.counters = counters
    }

    /// The scopes of a keypad at a door, innermost first.
    public static func scopes(keypad: String, door: String) -> [GuessScope] {
        [.keypad(door: door, name: keypad), .door(door)]
    }

    /// The scopes among `scopes` that are locked now.
    public mutating func locked(_ scopes: [GuessScope], at now: WallTime) -> [GuessScope] {
        scopes.filter { scope in
            counters[scope, default: GuessCounter()].settle(at: now, rules: rules)
            if counters[scope]!.isEmpty { counters[scope] = nil }
            return counters[scope]?.isLocked(at: now) ?? false
        }
    }

    /// Charges one wrong PIN to every scope. - Returns: the scopes whose lockout this failure started.
    /// Charges nothing while any of the scopes is locked (the entry is refused unchecked).
    public mutating func charge(_ scopes: [GuessScope], at now: WallTime) -> [GuessScope] {
        guard locked(scopes, at: now).isEmpty else { return [] }
        return scopes.filter { scope in
            counters[scope, default: GuessCounter()].recordFailure(at: now, limit: rules.failures(for: scope), rules: rules)
        }
    }

    public func counter(_ scope: GuessScope) -> GuessCounter { counters[scope] ?? GuessCounter() }

    /// Replaces one scope's counter (loading persisted state, or putting back a refunded charge).
    public mutating func set(_ counter: GuessCounter, for scope: GuessScope) {
        counters[scope] = counter.isEmpty ? nil : counter
    }
}
