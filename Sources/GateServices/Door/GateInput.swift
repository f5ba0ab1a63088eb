public import GateCore

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
    /// A manager locked a door (or every door, `nil`) down, or lifted it: credentials and remote opens are
    /// refused and passage is suspended while it lasts; fire still releases.
    case lockdown(door: String?, active: Bool)
    /// The text of a QR code the door's camera read (or `optgate simulate qr`), to be checked as a visitor pass.
    case visitorQR(door: String, payload: String)
    /// The recogniser refused a face before any resident was decided (`livenessFailed`: the door's liveness
    /// policy did not hold). Recorded without the resident, like a stranger.
    case faceRefused(door: String, reason: DecisionReason)
    /// A supervised reader's alarm (`readerOffline`, `readerTamper`) raised or cleared; `reader` names it
    /// in the audit entry (e.g. `osdp /dev/ttyUSB0#1`), `problem` says why.
    case readerAlarm(door: String, reader: String, alarm: DoorAlarm, active: Bool, problem: String = "")

    var door: String? {
        switch self {
        case .card(let door, _), .key(let door, _, _), .exitRequest(let door), .contact(let door, _), .tamper(let door),
            .remoteOpen(let door, _), .face(let door, _), .visitorQR(let door, _), .faceRefused(let door, _),
            .readerAlarm(let door, _, _, _, _):
            door
        case .fire(let door, _), .lockdown(let door, _):
            door
        }
    }

    /// The input as the gate machine takes it.
    /// `nil` for inputs the executor handles itself (reader supervision alarms).
    var doorInput: DoorInput? {
        switch self {
        case .card(let door, let uid): .card(door: door, uid)
        case .key(let door, let key, let keypad): .key(door: door, key, keypad: keypad)
        case .exitRequest(let door): .exitRequest(door: door)
        case .contact(let door, let open): .contact(door: door, open: open)
        case .fire(let door, let active): .fire(door: door, active: active)
        case .tamper(let door): .tamper(door: door)
        case .remoteOpen(let door, let op): .remoteOpen(door: door, operator: op)
        case .face(let door, let residentID): .face(door: door, residentID: residentID)
        case .lockdown(let door, let active): .lockdown(door: door, active: active)
        case .visitorQR(let door, let payload): .visitorQR(door: door, payload: payload)
        case .faceRefused(let door, let reason): .faceRefused(door: door, reason: reason)
        case .readerAlarm: nil
        }
    }
}
