/// Durations that shape a door's behaviour.
public struct DoorTimings: Sendable, Hashable {
    /// How long the lock stays released after a grant, REX or remote open (0.1–30 s).
    public var pulse: Duration
    /// How long the door may stand open before the held-open alarm (1–255 s in common terminals).
    public var heldOpen: Duration

    public init(pulse: Duration = .seconds(3), heldOpen: Duration = .seconds(30)) {
        self.pulse = pulse
        self.heldOpen = heldOpen
    }
}

/// Alarm conditions a door can raise.
public enum DoorAlarm: String, Sendable, Hashable, CaseIterable, Codable {
    /// The door stood open longer than `DoorTimings.heldOpen`.
    case heldOpen
    /// The door opened while the lock was engaged and nobody was granted.
    case forcedOpen
    /// The reader or controller housing was opened.
    case tamper
    /// The fire-alarm input is active; the door is released.
    case fire
    /// A supervised reader of the door (OSDP) stopped answering, or its link was refused. Raised by the
    /// reader, never by the state machine.
    case readerOffline
    /// A reader of the door reports its tamper switch, a capabilities downgrade or a wrong key.
    case readerTamper
}

/// What the door controller must do after an event. The state machine never touches hardware.
public enum DoorAction: Sendable, Hashable {
    /// Release the lock (energise or de-energise the relay according to its polarity).
    case unlock
    /// Engage the lock.
    case lock
    /// Record and signal an alarm.
    case raise(DoorAlarm)
    /// Record that an alarm condition ended.
    case clear(DoorAlarm)
}

/// The lock, contact and alarm logic of one door.
///
/// ```
///           release(at:)               tick(at:) past pulse end
///  locked ───────────────► unlocked ─────────────────────────► locked
///     │                                                            ▲
///     └──── fire(active: true) ──► fireReleased ── fire(active: false)
/// ```
/// The contact is tracked beside the lock: opening while locked (and not fire-released) is a forced
/// opening; staying open past `heldOpen` raises the held-open alarm once. The fire state overrides
/// everything else: while it is active the door stays released whatever else happens.
///
/// Time is a parameter: callers pass the current instant of any clock and call `tick(at:)` no later
/// than `nextDeadline`.
public struct DoorStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    /// The lock's state.
    public enum LockState: Sendable, Hashable {
        case locked
        /// Released until the instant, by a grant, REX or remote open.
        case unlocked(until: Instant)
        /// Released by the fire-alarm input for as long as it is active.
        case fireReleased
        /// Held released for free passage (a passage schedule) until `hold(false)`.
        case held
    }

    /// The door contact's state.
    public enum ContactState: Sendable, Hashable {
        case closed
        /// Open since the instant; `alarmed` once the held-open alarm was raised for this opening.
        case open(since: Instant, alarmed: Bool)
    }

    public var timings: DoorTimings
    public private(set) var lock: LockState = .locked
    public private(set) var contact: ContactState = .closed
    /// Alarms raised and not yet cleared (tamper stays until acknowledged by a restart or clear).
    public private(set) var activeAlarms: Set<DoorAlarm> = []

    public init(timings: DoorTimings) {
        self.timings = timings
    }

    /// Whether the lock is currently released.
    public var isUnlocked: Bool {
        if case .locked = lock { return false }
        return true
    }

    public var isOpen: Bool {
        if case .open = contact { return true }
        return false
    }

    /// The next instant at which `tick(at:)` has work to do, if any.
    public var nextDeadline: Instant? {
        var deadlines: [Instant] = []
        if case .unlocked(let until) = lock { deadlines.append(until) }
        if case .open(let since, false) = contact, lock != .fireReleased, lock != .held {
            deadlines.append(since.advanced(by: timings.heldOpen))
        }
        return deadlines.min()
    }

    /// A resident was granted, REX was pressed or an operator opened the door: release for one pulse.
    public mutating func release(at now: Instant) -> [DoorAction] {
        switch lock {
        case .fireReleased, .held:
            return []
        case .unlocked:
            lock = .unlocked(until: now.advanced(by: timings.pulse))
            return []
        case .locked:
            lock = .unlocked(until: now.advanced(by: timings.pulse))
            return [.unlock]
        }
    }

    /// The door contact reported open or closed.
    public mutating func contact(open: Bool, at now: Instant) -> [DoorAction] {
        switch (contact, open) {
        case (.closed, true):
            contact = .open(since: now, alarmed: false)
            if case .locked = lock {
                activeAlarms.insert(.forcedOpen)
                return [.raise(.forcedOpen)]
            }
            return []
        case (.open, false):
            contact = .closed
            var actions: [DoorAction] = []
            for alarm in [DoorAlarm.forcedOpen, .heldOpen] where activeAlarms.contains(alarm) {
                activeAlarms.remove(alarm)
                actions.append(.clear(alarm))
            }
            return actions
        default:
            return []
        }
    }

    /// The fire-alarm input changed. While active the door is released and nothing re-locks it.
    public mutating func fire(active: Bool, at now: Instant) -> [DoorAction] {
        switch (lock, active) {
        case (.fireReleased, true):
            return []
        case (_, true):
            let wasLocked = lock == .locked
            lock = .fireReleased
            activeAlarms.insert(.fire)
            activeAlarms.remove(.heldOpen)
            return wasLocked ? [.raise(.fire), .unlock] : [.raise(.fire)]
        case (.fireReleased, false):
            lock = .locked
            activeAlarms.remove(.fire)
            if case .open = contact {
                // The door is still open after the evacuation: the held-open clock starts now.
                contact = .open(since: now, alarmed: false)
            }
            return [.clear(.fire), .lock]
        case (_, false):
            return []
        }
    }

    /// Passage starts (`true`: the lock is held released, no held-open alarm) or ends (the lock engages).
    /// The fire state overrides it: while fire-released, passage changes nothing.
    public mutating func hold(_ held: Bool, at now: Instant) -> [DoorAction] {
        switch (lock, held) {
        case (.fireReleased, _), (.held, true):
            return []
        case (.locked, true):
            lock = .held
            return [.unlock]
        case (.unlocked, true):
            lock = .held
            return []
        case (.held, false):
            lock = .locked
            if case .open = contact {
                // The door is still open when passage ends: the held-open clock starts now.
                contact = .open(since: now, alarmed: false)
            }
            return [.lock]
        case (_, false):
            return []
        }
    }

    /// The tamper input fired.
    public mutating func tamper(at now: Instant) -> [DoorAction] {
        activeAlarms.insert(.tamper)
        return [.raise(.tamper)]
    }

    /// Advance time: re-lock after the pulse, raise the held-open alarm.
    public mutating func tick(at now: Instant) -> [DoorAction] {
        var actions: [DoorAction] = []
        if case .unlocked(let until) = lock, until <= now {
            lock = .locked
            actions.append(.lock)
        }
        if case .open(let since, false) = contact, lock != .fireReleased, lock != .held, since.advanced(by: timings.heldOpen) <= now {
            contact = .open(since: since, alarmed: true)
            activeAlarms.insert(.heldOpen)
            actions.append(.raise(.heldOpen))
        }
        return actions
    }
}
