/// The part of the daemon's configuration the gate machine decides with.
public struct GateSettings: Sendable, Hashable {
    public var doors: [GateDoorSettings]
    public var pinEntry: PinEntryRules
    public var lockout: LockoutRules
    /// How long after the first factor (card, face) the second (PIN) may follow (`secondFactorSeconds`).
    public var secondFactor: Duration
    /// How long a resident counts as inside an anti-passback area after entering it
    /// (`antiPassbackPresenceHours`).
    public var presenceTimeout: Duration

    public init(doors: [GateDoorSettings], pinEntry: PinEntryRules = PinEntryRules(), lockout: LockoutRules = LockoutRules(),
                secondFactor: Duration = .seconds(10), presenceTimeout: Duration = .seconds(12 * 3600)) {
        self.doors = doors
        self.pinEntry = pinEntry
        self.lockout = lockout
        self.secondFactor = secondFactor
        self.presenceTimeout = presenceTimeout
    }
}

/// One door as the gate machine sees it.
public struct GateDoorSettings: Sendable, Hashable {
    public var name: String
    /// Credential methods the door accepts.
    public var methods: Set<AccessMethod>
    public var timings: DoorTimings
    /// What the door asks of a resident when the rules do not say (`verifyMode`, default `any`).
    public var verifyMode: VerifyMode
    /// The door's anti-passback reader role, if any.
    public var antiPassback: AntiPassback?

    public init(name: String, methods: Set<AccessMethod> = [.card, .pin], timings: DoorTimings = DoorTimings(),
                verifyMode: VerifyMode = .any, antiPassback: AntiPassback? = nil) {
        self.name = name
        self.methods = methods
        self.timings = timings
        self.verifyMode = verifyMode
        self.antiPassback = antiPassback
    }

    public var policy: DoorPolicy { DoorPolicy(name: name, methods: methods) }
}

/// A door's place in an anti-passback area: passing it enters or leaves the area.
public struct AntiPassback: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable, CaseIterable {
        case entry
        case exit
    }

    public enum Mode: String, Sendable, Hashable, CaseIterable {
        /// A second entry is let in and recorded as an `antiPassback` alarm.
        case soft
        /// A second entry is refused (`antiPassback`).
        case hard
    }

    public var area: String
    public var direction: Direction
    public var mode: Mode

    public init(area: String, direction: Direction, mode: Mode) {
        self.area = area
        self.direction = direction
        self.mode = mode
    }
}
