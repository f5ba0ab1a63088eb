/// Something that happened at a gate, as the gate machine is told about it.
public enum DoorInput: Sendable, Hashable {
    case card(door: String, CardUID)
    /// A key pressed on one keypad of a door: `keypad` is the reader's device path, or `simulated`.
    case key(door: String, KeypadKey, keypad: String)
    case exitRequest(door: String)
    case contact(door: String, open: Bool)
    /// The fire-alarm input; `nil` means every door.
    case fire(door: String?, active: Bool)
    case tamper(door: String)
    case remoteOpen(door: String, operator: String)
    /// The recogniser's verdict: a consenting resident, or a face that matched nobody (`nil`).
    case face(door: String, residentID: String?)
    /// A manager locked a door (or every door, `nil`) down: credentials and remote opens are refused and
    /// passage is suspended until it is lifted; fire still releases.
    case lockdown(door: String?, active: Bool)
    /// The text of a QR code the door's camera read, to be checked as a visitor pass (docs/visitors.md).
    case visitorQR(door: String, payload: String)
    /// The recogniser refused a face before any resident was decided (`livenessFailed`: the door's liveness
    /// policy did not hold). Recorded without the resident, like a stranger.
    case faceRefused(door: String, reason: DecisionReason)

    /// The door the input is about; `nil` for inputs that reach every door.
    public var door: String? {
        switch self {
        case .card(let door, _), .key(let door, _, _), .exitRequest(let door), .contact(let door, _), .tamper(let door),
            .remoteOpen(let door, _), .face(let door, _), .visitorQR(let door, _), .faceRefused(let door, _):
            door
        case .fire(let door, _), .lockdown(let door, _):
            door
        }
    }
}

/// Identifies one credential lookup the machine asked for; its answer comes back with the same id.
public struct LookupID: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public var description: String { "lookup \(value)" }
}

/// Identifies a request that waits for a reply (a control-socket command); chosen by the executor.
public struct RequestID: Sendable, Hashable {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }
}

/// What the machine asks the credential store.
public enum CredentialQuery: Sendable, Hashable {
    /// The holder of a card.
    case card(CardUID)
    /// The holders of a PIN typed alone (`unit == nil`) or after a unit code. Also says whether it is a
    /// resident's duress PIN.
    case pin(PIN, unit: String?)
    /// The consenting resident a face matched, and whether their consent covers the door.
    case face(residentID: String, door: String)
    /// Visitor passes (docs/visitors.md): spend one use of the pass whose keypad code this is, if it opens `door`.
    case visitorCode(PIN, door: String)
    /// Visitor passes: verify the QR text's signature, then spend one use if the pass opens `door`.
    case visitorQR(String, door: String)
}

/// Whose PIN a typed PIN is.
public enum PinHolders: Sendable, Hashable {
    case none
    /// One resident; `duress` when the PIN typed is that resident's duress PIN.
    case one(CredentialHolder, duress: Bool = false)
    /// Several residents hold this PIN: nobody is let in on it.
    case ambiguous(count: Int)
}

/// The store's answer to a `CredentialQuery`.
public enum LookupAnswer: Sendable, Hashable {
    case card(CredentialHolder?)
    case pin(PinHolders)
    case face(CredentialHolder?, inScope: Bool)
    /// A visitor pass's verdict (one use spent when it opens); `nil` when the keypad code is no pass's.
    case visitor(VisitorPassDecision?)
    /// The lookup failed; `error` describes it for the journal (never a credential).
    case failed(error: String)
}

/// Everything the gate machine is told.
public enum GateEvent: Sendable, Hashable {
    /// The state saved by an earlier run: wrong-PIN counters and who is inside which anti-passback area.
    case restore(guessCounters: [GuessScope: GuessCounter], presence: [PresenceKey: WallTime])
    /// An input from a reader, a door input or an operator; `request` is replied to once.
    case input(DoorInput, request: RequestID?)
    /// The answer to a lookup the machine asked for.
    case lookedUp(LookupID, LookupAnswer)
    /// A timer the machine scheduled ran out (a tick with nothing due is harmless).
    case tick
    /// Once a second: close flood windows.
    case maintenance
    /// New door settings; the set of doors is unchanged (the executor checks). Doors keep their state.
    case reconfigure(GateSettings)
    /// The compound's access rules changed.
    case rules(AccessRules)
    /// The daily anti-passback reset: everyone counts as outside every area again.
    case resetPresence
    /// The daemon is stopping: report every open flood window.
    case shutdown
}
