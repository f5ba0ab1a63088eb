/// A key on a PIN pad, independent of the keypad's wire format.
public enum KeypadKey: Sendable, Hashable {
    case digit(UInt8)
    /// `#` or Enter.
    case submit
    /// `*` or Esc.
    case clear

    /// Maps a printable key (`0`–`9`, `#`, `*`) to a key; `nil` for anything else.
    public init?(character: Character) {
        switch character {
        case "#": self = .submit
        case "*": self = .clear
        default:
            guard let value = character.wholeNumberValue, (0...9).contains(value), character.isASCII else { return nil }
            self = .digit(UInt8(value))
        }
    }
}

/// Digits typed on a keypad. Its description never shows the digits, so it cannot leak into a log.
public struct PIN: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public let digits: String

    /// - Returns: `nil` unless `digits` is non-empty and ASCII digits only.
    public init?(_ digits: String) {
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        self.digits = digits
    }

    public var description: String { "<PIN redacted>" }
    public var debugDescription: String { description }
}

/// How a resident identifies themself at the keypad.
public enum KeypadMode: String, Sendable, Hashable, CaseIterable {
    /// The unit code, `#`, the PIN, `#`: only that unit's residents' PINs are checked, so a guess targets
    /// one household and PINs need not be unique.
    case unitPin
    /// The PIN alone, `#`: a guess wins if it matches any resident's PIN.
    case pin
}

/// Limits of PIN entry.
public struct PinEntryRules: Sendable, Hashable {
    public var minimumDigits: Int
    public var maximumDigits: Int
    /// Typed digits are discarded when no key follows within this time.
    public var interDigitTimeout: Duration
    public var mode: KeypadMode
    /// The longest unit code (`unitPin` mode).
    public static let maximumUnitDigits = 12

    public init(minimumDigits: Int = 6, maximumDigits: Int = 12, interDigitTimeout: Duration = .seconds(5), mode: KeypadMode = .pin) {
        self.minimumDigits = minimumDigits
        self.maximumDigits = maximumDigits
        self.interDigitTimeout = interDigitTimeout
        self.mode = mode
    }
}

/// What the keypad controller must do after a key or a tick.
public enum PinEntryAction: Sendable, Hashable {
    case none
    /// A complete PIN was submitted: check it (against the residents of `unit` in `unitPin` mode).
    case submit(PIN, unit: String? = nil)
    /// The entry was rejected before any lookup.
    case reject(DecisionReason)
    /// Digits were discarded after the inter-digit timeout.
    case timedOut
}

/// Collects digits into a PIN: `#` submits, `*` clears, silence past the inter-digit timeout discards.
///
/// In `unitPin` mode the first `#` ends the unit code and the second submits the PIN: `321501#246813#`.
public struct PinEntryStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public enum State: Sendable, Hashable {
        case idle
        /// `unit` is the unit code already ended by `#` (`unitPin` mode), `nil` while it is being typed
        /// or in `pin` mode.
        case entering(digits: String, unit: String?, lastKeyAt: Instant)
    }

    public var rules: PinEntryRules
    public private(set) var state: State = .idle

    public init(rules: PinEntryRules) {
        self.rules = rules
    }

    public var nextDeadline: Instant? {
        if case .entering(_, _, let last) = state { return last.advanced(by: rules.interDigitTimeout) }
        return nil
    }

    public mutating func key(_ key: KeypadKey, at now: Instant) -> PinEntryAction {
        let expired = tick(at: now)
        var digits = ""
        var unit: String?
        if case .entering(let typed, let typedUnit, _) = state { (digits, unit) = (typed, typedUnit) }
        let typingUnit = rules.mode == .unitPin && unit == nil
        switch key {
        case .clear:
            state = .idle
            return .none
        case .digit(let value):
            digits.append(Character(String(value)))
            if digits.count > (typingUnit ? PinEntryRules.maximumUnitDigits : rules.maximumDigits) {
                state = .idle
                return .reject(.pinTooLong)
            }
            state = .entering(digits: digits, unit: unit, lastKeyAt: now)
            return .none
        case .submit:
            if typingUnit {
                if digits.isEmpty {
                    state = .idle
                    return expired
                }
                state = .entering(digits: "", unit: digits, lastKeyAt: now)
                return .none
            }
            state = .idle
            if digits.isEmpty, unit == nil { return expired }
            guard digits.count >= rules.minimumDigits, let pin = PIN(digits) else { return .reject(.pinTooShort) }
            return .submit(pin, unit: unit)
        }
    }

    /// Discards the typed digits once the inter-digit timeout has passed.
    public mutating func tick(at now: Instant) -> PinEntryAction {
        if let deadline = nextDeadline, deadline <= now {
            state = .idle
            return .timedOut
        }
        return .none
    }
}
