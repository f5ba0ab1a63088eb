public import GateCore
public import GateStore

/// Everything that can happen at a gate, from readers, inputs, the recogniser or an operator.
public enum GateInput: Sendable {
    case card(door: String, uid: CardUID)
    /// A key pressed on one keypad of a door: `keypad` is the reader's device path, or `simulated`.
    case key(door: String, KeypadKey, keypad: String = "simulated")
    case exitRequest(door: String)
    case contact(door: String, open: Bool)
    /// The fire-alarm input is wired to every door it releases; `nil` means all doors.
    case fire(door: String?, active: Bool)
    case tamper(door: String)
    case remoteOpen(door: String, operator: String)
    /// The recogniser's verdict: N-of-M frames agreed on a resident, or a face matched nobody (`nil`).
    case face(door: String, residentID: String?)
    /// The recogniser refused a face before any resident was decided (`livenessFailed`: the door's liveness
    /// policy did not hold). Recorded without the resident, like a stranger.
    case faceRefused(door: String, reason: DecisionReason)

    var door: String? {
        switch self {
        case .card(let door, _), .key(let door, _, _), .exitRequest(let door), .contact(let door, _), .tamper(let door),
            .remoteOpen(let door, _), .face(let door, _), .faceRefused(let door, _):
            door
        case .fire(let door, _):
            door
        }
    }
}
