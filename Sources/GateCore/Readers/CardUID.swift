/// A card UID as read from a reader: 4 to 10 bytes (7-byte MIFARE/DESFire UIDs, 4-byte legacy UIDs,
/// Wiegand numbers). Kept as bytes; only the last four hex digits are ever shown.
public struct CardUID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// - Returns: `nil` unless there are 4 to 10 bytes.
    public init?(bytes: [UInt8]) {
        guard (4...10).contains(bytes.count) else { return nil }
        self.bytes = bytes
    }

    /// Accepts 4 to 10 bytes of hex in either case, ignoring `:`, `-` and spaces. - Returns: `nil` for anything else.
    public init?(_ text: String) {
        var digits: [UInt8] = []
        for unit in text.utf8 where unit != UInt8(ascii: ":") && unit != UInt8(ascii: "-") && unit != UInt8(ascii: " ") {
            guard let value = Self.hexValue(unit) else { return nil }
            digits.append(value)
        }
        guard digits.count % 2 == 0 else { return nil }
        self.init(bytes: stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] })
    }

    /// Upper-case hex without separators: the form the store's keyed hash is computed over.
    public var hex: String {
        String(decoding: bytes.flatMap { [Self.digits[Int($0 >> 4)], Self.digits[Int($0 & 0x0F)]] }, as: UTF8.self)
    }

    public var last4: String { String(hex.suffix(4)) }
    /// Never the full UID: safe to log.
    public var description: String { "…\(last4)" }

    private static let digits = Array("0123456789ABCDEF".utf8)

    private static func hexValue(_ unit: UInt8) -> UInt8? {
        switch unit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): unit - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): unit - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): unit - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
