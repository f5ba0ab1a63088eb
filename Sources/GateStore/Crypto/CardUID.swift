/// A card UID as read from a reader, normalised to upper-case hex without separators.
public struct CardUID: Sendable, Hashable, CustomStringConvertible {
    public let hex: String

    /// Accepts 4 to 10 bytes of hex (7-byte MIFARE/DESFire UIDs, 4-byte legacy UIDs, Wiegand numbers),
    /// ignoring `:`, `-` and spaces. - Returns: `nil` for anything else.
    public init?(_ text: String) {
        let cleaned = text.uppercased().filter { ![":", "-", " "].contains($0) }
        guard (8...20).contains(cleaned.count), cleaned.count % 2 == 0,
              cleaned.allSatisfy({ $0.isHexDigit && $0.isASCII })
        else { return nil }
        hex = cleaned
    }

    public var last4: String { String(hex.suffix(4)) }
    /// Never the full UID: safe to log.
    public var description: String { "…\(last4)" }
}
