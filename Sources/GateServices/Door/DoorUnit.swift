import GateCore
import GateConfiguration

/// One door's live state: its lock/contact logic and the PIN entry of each of its keypads. (Wrong-PIN
/// counters live in `GateService`, persisted, because their scopes reach beyond one door.)
struct DoorUnit<Instant: InstantProtocol & Sendable> where Instant.Duration == Duration {
    private(set) var configuration: DaemonConfiguration.Door
    let relay: any Relay
    var machine: DoorStateMachine<Instant>
    /// Digits being typed, per keypad (two keypads at one door never mix their digits).
    var keypads: [String: PinEntryStateMachine<Instant>] = [:]
    private(set) var pinEntry: PinEntryRules

    init(configuration: DaemonConfiguration.Door, relay: any Relay, pinEntry: PinEntryRules) {
        self.configuration = configuration
        self.relay = relay
        machine = DoorStateMachine(timings: configuration.timings)
        self.pinEntry = pinEntry
    }

    /// Applies new settings and keeps the live state (lock, contact, alarms, typed digits).
    mutating func reconfigure(_ door: DaemonConfiguration.Door, pinEntry: PinEntryRules) {
        let wasEnergized = energized(unlocked: machine.isUnlocked)
        configuration = door
        machine.timings = door.timings
        self.pinEntry = pinEntry
        for name in keypads.keys { keypads[name]!.rules = pinEntry }
        let nowEnergized = energized(unlocked: machine.isUnlocked)
        if nowEnergized != wasEnergized { try? relay.set(energized: nowEnergized) }
    }

    /// Passes a key to the PIN entry of one keypad.
    mutating func key(_ key: KeypadKey, keypad: String, at now: Instant) -> PinEntryAction {
        keypads[keypad, default: PinEntryStateMachine(rules: pinEntry)].key(key, at: now)
    }

    /// Discards digits typed too slowly, on every keypad. - Returns: whether any entry timed out.
    mutating func tickKeypads(at now: Instant) -> Bool {
        var timedOut = false
        for name in keypads.keys where keypads[name]!.tick(at: now) == .timedOut { timedOut = true }
        keypads = keypads.filter { $0.value.state != .idle }
        return timedOut
    }

    var policy: DoorPolicy { DoorPolicy(name: configuration.name, methods: configuration.methods) }

    var nextDeadline: Instant? {
        ([machine.nextDeadline] + keypads.values.map(\.nextDeadline)).compactMap { $0 }.min()
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
