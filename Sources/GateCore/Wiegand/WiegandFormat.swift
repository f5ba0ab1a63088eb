/// A Wiegand frame format: how many bits, where the parity bits sit and what the data bits mean.
///
/// Bits are numbered in transmission order, 0 first. Parity: "even over bits a…b" means the number of
/// 1s among bits a…b, the parity bit included, is even; "odd" means it is odd.
///
/// | format | bits | layout | parity |
/// |---|---|---|---|
/// | `h10301` | 26 | P, facility 8, card 16, P | even over 0…12, odd over 13…25 |
/// | `bits34` | 34 | P, facility 16, card 16, P (HID H10306 layout) | even over 0…16, odd over 17…33 |
/// | `h10304` | 37 | P, facility 16, card 19, P | even over 0…18, odd over 18…36 |
/// | `keypad4` | 4 | one key: 0–9, 10 = `*`, 11 = `#` | none |
/// | `keypad8` | 8 | one key: high nibble = complement of the low nibble, low nibble as `keypad4` | the complement |
///
/// Burst keypads (a whole PIN in one 26-bit frame) are indistinguishable from a 26-bit card on the
/// wire and are not supported.
public enum WiegandFormat: String, Sendable, Hashable, CaseIterable {
    case h10301
    case bits34
    case h10304
    case keypad4
    case keypad8

    /// The frame length that identifies the format.
    public var bitCount: Int {
        switch self {
        case .h10301: 26
        case .bits34: 34
        case .h10304: 37
        case .keypad4: 4
        case .keypad8: 8
        }
    }

    /// The format of a frame of `bitCount` bits among `formats`; `nil` when none has that length.
    public static func matching(bitCount: Int, among formats: Set<WiegandFormat>) -> WiegandFormat? {
        formats.first { $0.bitCount == bitCount }
    }

    /// Decodes a complete frame of this format.
    /// - Returns: the card or key, or why the frame was rejected. A rejected frame never yields a number.
    public func decode(_ bits: [Bool]) -> WiegandMessage {
        guard bits.count == bitCount else { return .rejected(bits.count < bitCount ? .truncated : .overlong) }
        switch self {
        case .h10301:
            return Self.card(bits, facilityBits: 1...8, cardBits: 9...24, even: 0...12, odd: 13...25)
        case .bits34:
            return Self.card(bits, facilityBits: 1...16, cardBits: 17...32, even: 0...16, odd: 17...33)
        case .h10304:
            return Self.card(bits, facilityBits: 1...16, cardBits: 17...35, even: 0...18, odd: 18...36)
        case .keypad4:
            guard let key = Self.key(Self.value(bits, 0...3)) else { return .rejected(.unknownKey) }
            return .key(key)
        case .keypad8:
            let high = Self.value(bits, 0...3), low = Self.value(bits, 4...7)
            guard high == (~low & 0xF) else { return .rejected(.badParity) }
            guard let key = Self.key(low) else { return .rejected(.unknownKey) }
            return .key(key)
        }
    }

    private static func card(_ bits: [Bool], facilityBits: ClosedRange<Int>, cardBits: ClosedRange<Int>,
                             even: ClosedRange<Int>, odd: ClosedRange<Int>) -> WiegandMessage {
        let evenOnes = bits[even].filter { $0 }.count
        let oddOnes = bits[odd].filter { $0 }.count
        guard evenOnes % 2 == 0, oddOnes % 2 == 1 else { return .rejected(.badParity) }
        return .card(WiegandCard(facility: UInt32(value(bits, facilityBits)), number: UInt32(value(bits, cardBits))))
    }

    private static func value(_ bits: [Bool], _ range: ClosedRange<Int>) -> UInt64 {
        bits[range].reduce(0) { ($0 << 1) | ($1 ? 1 : 0) }
    }

    private static func key(_ value: UInt64) -> KeypadKey? {
        switch value {
        case 0...9: .digit(UInt8(value))
        case 10: .clear
        case 11: .submit
        default: nil
        }
    }
}

/// A card read over Wiegand: facility (site) code and card number.
public struct WiegandCard: Sendable, Hashable {
    public var facility: UInt32
    public var number: UInt32

    public init(facility: UInt32, number: UInt32) {
        self.facility = facility
        self.number = number
    }

    /// The card as the hex string optgate stores for cards (`CardUID`): facility code as 2 bytes
    /// big-endian, then card number as 3 bytes big-endian, 10 hex digits, the same for every format.
    /// Facility 18, card 12345 is `0012003039` (`printf '%04X%06X' 18 12345`).
    public var uidHex: String {
        hex(facility, digits: 4) + hex(number, digits: 6)
    }

    private func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}

/// What one Wiegand frame carried.
public enum WiegandMessage: Sendable, Hashable {
    case card(WiegandCard)
    case key(KeypadKey)
    case rejected(WiegandRejection)
}

/// Why a frame produced nothing. Counted, never turned into a number.
public enum WiegandRejection: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// A parity bit (or keypad8's complement nibble) does not match the data.
    case badParity
    /// Fewer bits than the shortest enabled format.
    case truncated
    /// More bits than the longest enabled format.
    case overlong
    /// A length between the shortest and longest enabled formats that no enabled format has (a
    /// 26-bit frame that lost a bit arrives as 25 bits and is refused here).
    case unknownLength
    /// Two bits closer together than the minimum bit interval: noise or crosstalk.
    case glitch
    /// A keypad code that is no key (12–15).
    case unknownKey

    public var description: String {
        switch self {
        case .badParity: "the parity bits do not match the data"
        case .truncated: "the frame is shorter than any enabled format"
        case .overlong: "the frame is longer than any enabled format"
        case .unknownLength: "no enabled format has this many bits"
        case .glitch: "two bits arrived closer together than the minimum bit interval"
        case .unknownKey: "the keypad sent a code that is no key"
        }
    }
}
