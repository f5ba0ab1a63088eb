/// Splits a control connection's bytes into lines: one line per `\n`, the newline removed. An
/// unterminated rest longer than `maximumLength` ends the connection. The server frames requests with it,
/// the client answers. Pure, so it is fuzzed (Tests/Fuzz).
public struct ControlLineFramer: Sendable {
    public let maximumLength: Int
    private var pending: [UInt8] = []

    public init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        pending += bytes
    }

    /// The next complete line without its newline, or `nil` until more bytes arrive.
    public mutating func nextLine() -> [UInt8]? {
        guard let newline = pending.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = Array(pending[..<newline])
        pending.removeSubrange(...newline)
        return line
    }

    /// Whether the unterminated rest has grown past `maximumLength` (the request is refused).
    public var isOverlong: Bool { pending.count > maximumLength }
}
