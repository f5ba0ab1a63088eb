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
    /// A supervised reader's alarm (`readerOffline`, `readerTamper`) raised or cleared; `reader` names it
    /// in the audit entry (e.g. `osdp /dev/ttyUSB0#1`), `problem` says why.
    case readerAlarm(door: String, reader: String, alarm: DoorAlarm, active: Bool, problem: String = "")

    var door: String? {
        switch self {
        case .card(let door, _), .key(let door, _, _), .exitRequest(let door), .contact(let door, _), .tamper(let door),
            .remoteOpen(let door, _), .face(let door, _), .readerAlarm(let door, _, _, _, _):
            door
        case .fire(let door, _):
            door
        }
    }
}
