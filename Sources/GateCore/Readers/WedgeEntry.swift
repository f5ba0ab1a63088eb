/// A key from a keyboard-wedge card reader, already mapped from its key code (never through a keymap).
public enum WedgeKey: Sendable, Hashable {
    /// `0`–`9` as 0–9, `A`–`F` as 10–15.
    case hexDigit(UInt8)
    case enter
    /// Any other key: the entry is spoiled and refused at Enter.
    case other
}

/// How a wedge reader prints card numbers.
public enum WedgeNumberFormat: String, Sendable, Hashable, CaseIterable {
    /// Hex when the entry contains a letter A–F, else decimal.
    case auto
    /// A decimal number (often the 4-byte UID as a 10-digit number).
    case decimal
    /// Hex digits, e.g. `04A1B2C3D4E5F6`.
    case hex
}

/// Byte order of a decimal wedge number. Many readers print the UID read as a little-endian integer.
public enum WedgeByteOrder: String, Sendable, Hashable, CaseIterable {
    case bigEndian
    case littleEndian
}

/// Rules for a keyboard-wedge reader.
public struct WedgeRules: Sendable, Hashable {
    public var format: WedgeNumberFormat
    public var byteOrder: WedgeByteOrder
    /// Keys further apart than this start a new entry: a half-typed number is discarded.
    public var interKeyTimeout: Duration

    public init(format: WedgeNumberFormat = .auto, byteOrder: WedgeByteOrder = .bigEndian,
                interKeyTimeout: Duration = .milliseconds(500)) {
        self.format = format
        self.byteOrder = byteOrder
        self.interKeyTimeout = interKeyTimeout
    }
}

/// Why a wedge entry produced no card.
public enum WedgeRejection: String, Sendable, Hashable, CustomStringConvertible {
    case notANumber
    case letterInDecimal
    case outOfRange
    case tooLong

    public var description: String {
        switch self {
        case .notANumber: "the reader typed a key that is neither a digit nor A–F"
        case .letterInDecimal: "the reader typed a hex letter but is configured for decimal numbers"
        case .outOfRange: "the number is not 4 to 10 bytes long"
        case .tooLong: "the reader typed more than 32 keys without Enter"
        }
    }
}

/// What to do after a wedge key.
public enum WedgeAction: Sendable, Hashable {
    case none
    /// A complete card number as 8–20 upper-case hex digits (the `CardUID` form).
    case card(hex: String)
    case rejected(WedgeRejection)
}

/// Collects the keys a keyboard-wedge reader types for one card and converts the number to the hex
/// form optgate stores.
///
/// Mapping (documented in docs/readers.md):
/// - hex entries are taken as they are, upper-cased; an odd number of digits gets a leading 0;
/// - decimal entries are converted to an unsigned integer, written big-endian with the fewest whole
///   bytes, at least 4 (`3735928559` → `DEADBEEF`, `16909060` → `01020304`); with `littleEndian`
///   byte order the bytes are then reversed (`3735928559` → `EFBEADDE`). Decimal numbers above
///   2^64 − 1 are refused;
/// - the result must be 4–10 bytes, or the entry is refused.
public struct WedgeEntry<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public var rules: WedgeRules
    private var digits: [UInt8] = []
    private var spoiled = false
    private var lastKeyAt: Instant?

    public init(rules: WedgeRules) {
        self.rules = rules
    }

    /// Whether keys are buffered.
    public var isEntering: Bool { !digits.isEmpty || spoiled }

    public mutating func key(_ key: WedgeKey, at now: Instant) -> WedgeAction {
        if let last = lastKeyAt, last.duration(to: now) > rules.interKeyTimeout { reset() }
        lastKeyAt = now
        switch key {
        case .hexDigit(let value):
            guard digits.count < 32 else {
                reset()
                return .rejected(.tooLong)
            }
            digits.append(value & 0xF)
            return .none
        case .other:
            spoiled = true
            return .none
        case .enter:
            defer { reset() }
            if digits.isEmpty && !spoiled { return .none }
            if spoiled { return .rejected(.notANumber) }
            return Self.convert(digits, rules: rules)
        }
    }

    private mutating func reset() {
        digits.removeAll()
        spoiled = false
        lastKeyAt = nil
    }

    static func convert(_ digits: [UInt8], rules: WedgeRules) -> WedgeAction {
        let hasLetter = digits.contains { $0 > 9 }
        let hex: Bool
        switch rules.format {
        case .auto: hex = hasLetter
        case .hex: hex = true
        case .decimal:
            if hasLetter { return .rejected(.letterInDecimal) }
            hex = false
        }
        var bytes: [UInt8]
        if hex {
            let padded = digits.count % 2 == 1 ? [0] + digits : digits
            bytes = stride(from: 0, to: padded.count, by: 2).map { padded[$0] << 4 | padded[$0 + 1] }
        } else {
            var value: UInt64 = 0
            for digit in digits {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
                if overflow1 || overflow2 { return .rejected(.outOfRange) }
                value = sum
            }
            bytes = []
            while value > 0 {
                bytes.insert(UInt8(value & 0xFF), at: 0)
                value >>= 8
            }
            while bytes.count < 4 { bytes.insert(0, at: 0) }
            if rules.byteOrder == .littleEndian { bytes.reverse() }
        }
        guard (4...10).contains(bytes.count) else { return .rejected(.outOfRange) }
        let text = bytes.map { byte in
            let digits = Array("0123456789ABCDEF")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
        }.joined()
        return .card(hex: text)
    }
}
