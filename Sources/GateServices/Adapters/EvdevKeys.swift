import CEvdev
public import GateCore

/// One `struct input_event` as the kernel writes it to an evdev node.
public struct InputEvent: Sendable, Hashable {
    /// Kernel timestamp (CLOCK_REALTIME unless changed with EVIOCSCLOCKID).
    public var seconds: Int64
    public var microseconds: Int64
    /// `EV_KEY`, `EV_SYN`, `EV_MSC`, …
    public var type: UInt16
    /// `KEY_*` for `EV_KEY`.
    public var code: UInt16
    /// For `EV_KEY`: 1 press, 0 release, 2 auto-repeat.
    public var value: Int32

    public init(seconds: Int64, microseconds: Int64, type: UInt16, code: UInt16, value: Int32) {
        self.seconds = seconds
        self.microseconds = microseconds
        self.type = type
        self.code = code
        self.value = value
    }

    /// The size of `struct input_event` (mirrored by `gate_input_event`) on this machine (24 bytes on x86_64 and arm64).
    public static let size = MemoryLayout<gate_input_event>.size

    /// Decodes whole events from the front of `bytes`. - Returns: the events and how many bytes they used.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> (events: [InputEvent], consumed: Int) {
        let count = bytes.count / size
        var events: [InputEvent] = []
        events.reserveCapacity(count)
        for index in 0..<count {
            let raw = bytes.loadUnaligned(fromByteOffset: index * size, as: gate_input_event.self)
            events.append(InputEvent(seconds: Int64(raw.sec), microseconds: Int64(raw.usec),
                                     type: raw.type, code: raw.code, value: raw.value))
        }
        return (events, count * size)
    }

    /// The event as the kernel's bytes (tests write recorded streams with it).
    public var bytes: [UInt8] {
        var raw = gate_input_event()
        raw.sec = Int(seconds)
        raw.usec = Int(microseconds)
        raw.type = type
        raw.code = code
        raw.value = value
        return withUnsafeBytes(of: &raw) { Array($0) }
    }

    /// The kernel timestamp as an instant.
    public var instant: EventInstant {
        EventInstant(offset: .seconds(seconds) + .microseconds(microseconds))
    }

    /// `EV_KEY` press (value 1). Releases and auto-repeats (2) are not key strokes.
    public var isKeyPress: Bool { type == UInt16(EV_KEY) && value == 1 }
}

/// The kernel timestamp of an input event: entry timeouts follow the time keys were really typed, even
/// when the daemon reads them late.
public struct EventInstant: InstantProtocol, Sendable {
    public var offset: Duration
    public init(offset: Duration) { self.offset = offset }
    public func advanced(by duration: Duration) -> EventInstant { EventInstant(offset: offset + duration) }
    public func duration(to other: EventInstant) -> Duration { other.offset - offset }
    public static func < (lhs: EventInstant, rhs: EventInstant) -> Bool { lhs.offset < rhs.offset }
}

/// Key codes to keys, by evdev code (layout-independent: the code says which physical key, never what a
/// keymap would print). The C constants are `KEY_0`…`KEY_9`, `KEY_KP0`…`KEY_KP9`, `KEY_NUMERIC_0`…`KEY_NUMERIC_9`,
/// `KEY_A`…`KEY_F`, `KEY_ENTER`, `KEY_KPENTER`, `KEY_NUMERIC_POUND`, `KEY_KPASTERISK`, `KEY_NUMERIC_STAR`,
/// `KEY_ESC`, `KEY_BACKSPACE`.
public enum EvdevKeys {
    static let topRowDigits: [Int32] = [KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9]
    static let keypadDigits: [Int32] = [KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4, KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8, KEY_KP9]
    static let numericDigits: [Int32] = [KEY_NUMERIC_0, KEY_NUMERIC_1, KEY_NUMERIC_2, KEY_NUMERIC_3, KEY_NUMERIC_4,
                                         KEY_NUMERIC_5, KEY_NUMERIC_6, KEY_NUMERIC_7, KEY_NUMERIC_8, KEY_NUMERIC_9]
    static let hexLetters: [Int32] = [KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F]
    /// Modifiers a wedge reader may press around letters; they carry no character and are skipped.
    static let modifiers: Set<Int32> = [KEY_LEFTSHIFT, KEY_RIGHTSHIFT, KEY_CAPSLOCK, KEY_NUMLOCK, KEY_LEFTCTRL, KEY_RIGHTCTRL,
                                        KEY_LEFTALT, KEY_RIGHTALT]

    /// The digit 0–9 of a digit key, from the top row, the numeric keypad or a phone-style keypad.
    public static func digit(_ code: UInt16) -> UInt8? {
        let code = Int32(code)
        for table in [topRowDigits, keypadDigits, numericDigits] {
            if let index = table.firstIndex(of: code) { return UInt8(index) }
        }
        return nil
    }

    /// A PIN-pad key: digits; Enter, keypad Enter and `#` (`KEY_NUMERIC_POUND`) submit; `*`
    /// (`KEY_KPASTERISK`, `KEY_NUMERIC_STAR`), Esc and Backspace clear.
    public static func keypadKey(_ code: UInt16) -> KeypadKey? {
        if let digit = digit(code) { return .digit(digit) }
        switch Int32(code) {
        case KEY_ENTER, KEY_KPENTER, KEY_NUMERIC_POUND: return .submit
        case KEY_KPASTERISK, KEY_NUMERIC_STAR, KEY_ESC, KEY_BACKSPACE: return .clear
        default: return nil
        }
    }

    /// A wedge key: digits, letters A–F, Enter; `nil` for modifiers (skipped), `.other` for anything else.
    public static func wedgeKey(_ code: UInt16) -> WedgeKey? {
        if let digit = digit(code) { return .hexDigit(digit) }
        let code32 = Int32(code)
        if let letter = hexLetters.firstIndex(of: code32) { return .hexDigit(UInt8(10 + letter)) }
        if code32 == KEY_ENTER || code32 == KEY_KPENTER { return .enter }
        if modifiers.contains(code32) { return nil }
        return .other
    }
}
