/// The rules a new PIN must meet. A refusal names only a property of the PIN itself (its length, a
/// pattern, the resident's own unit code), never anything about other residents' PINs.
public struct PinStrength: Sendable, Hashable {
    public var minimumDigits: Int
    public var maximumDigits: Int

    public init(minimumDigits: Int = 6, maximumDigits: Int = 12) {
        self.minimumDigits = minimumDigits
        self.maximumDigits = maximumDigits
    }

    /// PINs people pick first that no pattern rule below catches.
    static let common: Set<String> = [
        "147258", "258369", "147258369", "159753", "951357", "789456", "456789123", "123321", "321123",
        "102030", "010203", "112358", "147852", "963852", "741852", "852456", "198400", "200000", "000007",
    ]

    /// - Parameter unitCode: the digits the resident's unit is typed as (`unitPin` mode), if any.
    /// - Returns: why the PIN is refused, as a phrase; `nil` when it is acceptable.
    public func weakness(of pin: PIN, unitCode: String? = nil) -> String? {
        let text = pin.digits
        let digits = text.compactMap(\.wholeNumberValue)
        guard digits.count >= minimumDigits else { return "a PIN has at least \(minimumDigits) digits" }
        guard digits.count <= maximumDigits else { return "a PIN has at most \(maximumDigits) digits" }
        if Set(digits).count == 1 { return "all digits are the same" }
        let steps = Set(zip(digits, digits.dropFirst()).map { ($1 - $0 + 10) % 10 })
        if steps == [1] || steps == [9] { return "the digits form a sequence" }
        for length in stride(from: 1, through: digits.count / 2, by: 1) where digits.count % length == 0 {
            let pattern = Array(digits.prefix(length))
            if (0..<digits.count).allSatisfy({ digits[$0] == pattern[$0 % length] }) { return "the digits repeat a pattern" }
        }
        if digits.count % 2 == 0, stride(from: 0, to: digits.count, by: 2).allSatisfy({ digits[$0] == digits[$0 + 1] }) {
            let pairs = stride(from: 0, to: digits.count, by: 2).map { digits[$0] }
            let pairSteps = Set(zip(pairs, pairs.dropFirst()).map { ($1 - $0 + 10) % 10 })
            if pairSteps == [1] || pairSteps == [9] { return "the digits form a sequence of pairs" }
        }
        if digits == digits.reversed(), Set(digits).count <= digits.count / 2 { return "the digits mirror each other" }
        if Self.common.contains(text) { return "it is one of the PINs people choose most" }
        if let unitCode, unitCode.count >= 3, text.contains(unitCode) || unitCode.contains(text) {
            return "it contains the unit code"
        }
        return nil
    }
}

/// How a resident's unit is typed on a numeric keypad: the digits of the unit, in order, everything else
/// dropped (`3-2-1501` → `321501`, `B-12` → `12`).
public enum KeypadUnit {
    /// - Returns: `nil` when the unit has no digits or more than `PinEntryRules.maximumUnitDigits`.
    public static func code(of unit: String) -> String? {
        let digits = String(unit.filter { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, digits.count <= PinEntryRules.maximumUnitDigits else { return nil }
        return digits
    }
}
