// Fuzz target: key streams from evdev nodes. The input after two rule bytes is read as raw kernel
// `struct input_event` records (EvdevKeys / InputEvent.decode), and each key press goes through the
// wedge card-number entry and the PIN-pad state machine, timed by the event's own timestamp.
import GateCore
import GateStore
@testable import GateServices

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzReader(data, size)
    let rulesByte = input.byte()
    let timeoutByte = input.byte()
    let wedgeRules = WedgeRules(
        format: WedgeNumberFormat.allCases[Int(rulesByte & 3) % WedgeNumberFormat.allCases.count],
        byteOrder: rulesByte & 4 == 0 ? .bigEndian : .littleEndian,
        interKeyTimeout: .milliseconds(Int(timeoutByte) * 4 + 1))
    let minimum = 4 + Int(rulesByte >> 3 & 3)
    #if KEYPAD_MODE
    let pinRules = PinEntryRules(minimumDigits: minimum, maximumDigits: minimum + Int(rulesByte >> 5 & 3),
                                 interDigitTimeout: .milliseconds(Int(timeoutByte) * 40 + 1),
                                 mode: rulesByte & 0x80 == 0 ? .pin : .unitPin)
    #else
    let pinRules = PinEntryRules(minimumDigits: minimum, maximumDigits: minimum + Int(rulesByte >> 5 & 3),
                                 interDigitTimeout: .milliseconds(Int(timeoutByte) * 40 + 1))
    #endif
    var wedge = WedgeEntry<EventInstant>(rules: wedgeRules)
    var pad = PinEntryStateMachine<EventInstant>(rules: pinRules)

    let stream = input.rest()
    let (events, consumed) = stream.withUnsafeBytes { InputEvent.decode($0) }
    require(consumed == events.count * InputEvent.size && consumed <= stream.count && stream.count - consumed < InputEvent.size)
    for event in events {
        require(event.bytes.withUnsafeBytes { InputEvent.decode($0).events } == [event], "an event does not survive its bytes")
        guard event.isKeyPress else { continue }
        let now = event.instant
        // `if case`, not `switch`: new actions elsewhere must not break the fuzz build.
        if let key = EvdevKeys.wedgeKey(event.code) {
            let action = wedge.key(key, at: now)
            if case .card(let hex) = action {
                require(CardUID(hex)?.hex == hex, "the wedge produced a card number that is not a UID")
            }
            if case .rejected(let reason) = action { require(!reason.description.isEmpty) }
        }
        if let key = EvdevKeys.keypadKey(event.code), let (pin, unit) = submitted(pad.key(key, at: now)) {
            require((pinRules.minimumDigits...pinRules.maximumDigits).contains(pin.digits.count),
                    "a PIN of the wrong length was submitted")
            require(pin.description == "<PIN redacted>")
            if let unit { require(!unit.isEmpty && unit.count <= 12 && unit.allSatisfy(\.isASCII) && unit.allSatisfy(\.isNumber)) }
        }
        _ = pad.tick(at: now)
    }
    // The same keys as printable characters (the simulator's `keys` path).
    for byte in stream.prefix(64) {
        if let key = KeypadKey(character: Character(Unicode.Scalar(byte))) {
            _ = pad.key(key, at: EventInstant(offset: .seconds(1)))
        }
    }
    return 0
}

/// The PIN (and unit code, in unit + PIN mode) of a `.submit` action, read by reflection so the target
/// compiles whether `.submit` carries the PIN alone or the PIN and a unit.
func submitted(_ action: PinEntryAction) -> (PIN, unit: String?)? {
    guard case .submit = action, let payload = Mirror(reflecting: action).children.first?.value else { return nil }
    if let pin = payload as? PIN { return (pin, nil) }
    let parts = Mirror(reflecting: payload).children.map(\.value)
    guard let pin = parts.first as? PIN else { fatalError("a submitted action without a PIN") }
    return (pin, parts.dropFirst().first.flatMap { $0 as? String? } ?? nil)
}
