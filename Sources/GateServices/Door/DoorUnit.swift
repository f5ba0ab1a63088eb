import GateCore

/// One door's live state: its lock/contact logic, its keypad and the keypad's lockout.
struct DoorUnit<Instant: InstantProtocol & Sendable> where Instant.Duration == Duration {
    private(set) var configuration: DaemonConfiguration.Door
    let relay: any Relay
    var machine: DoorStateMachine<Instant>
    var keypad: PinEntryStateMachine<Instant>
    var lockout: Lockout<Instant>

    init(configuration: DaemonConfiguration.Door, relay: any Relay, pinEntry: PinEntryRules, lockout: LockoutRules) {
        self.configuration = configuration
        self.relay = relay
        machine = DoorStateMachine(timings: configuration.timings)
        keypad = PinEntryStateMachine(rules: pinEntry)
        self.lockout = Lockout(rules: lockout)
    }

    /// Applies new settings and keeps the live state (lock, contact, alarms, typed digits, lockout).
    mutating func reconfigure(_ door: DaemonConfiguration.Door, pinEntry: PinEntryRules, lockout rules: LockoutRules) {
        let wasEnergized = energized(unlocked: machine.isUnlocked)
        configuration = door
        machine.timings = door.timings
        keypad.rules = pinEntry
        lockout.rules = rules
        let nowEnergized = energized(unlocked: machine.isUnlocked)
        if nowEnergized != wasEnergized { try? relay.set(energized: nowEnergized) }
    }

    var policy: DoorPolicy { DoorPolicy(name: configuration.name, methods: configuration.methods) }

    var nextDeadline: Instant? {
        [machine.nextDeadline, keypad.nextDeadline].compactMap { $0 }.min()
    }

    /// The coil level that releases or engages the lock, given the relay's polarity.
    func energized(unlocked: Bool) -> Bool {
        switch configuration.polarity {
        case .failSecure: unlocked
        case .failSafe: !unlocked
        }
    }

    /// The level the relay takes without power: where the door is left when the daemon stops.
    var safeLevel: Bool { false }
}
