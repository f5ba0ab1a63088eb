/// Splits a control connection's bytes into request lines: one line per `\n`, the newline removed. An
/// unterminated rest longer than `maximumLength` ends the connection. Pure, so it is fuzzed (Tests/Fuzz).
struct ControlLineFramer {
    let maximumLength: Int
    private var pending: [UInt8] = []

    init(maximumLength: Int) {
        self.maximumLength = maximumLength
    }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        pending += bytes
    }

    /// The next complete line without its newline, or `nil` until more bytes arrive.
    mutating func nextLine() -> [UInt8]? {
        guard let newline = pending.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let line = Array(pending[..<newline])
        pending.removeSubrange(...newline)
        return line
    }

    /// Whether the unterminated rest has grown past `maximumLength` (the request is refused).
    var isOverlong: Bool { pending.count > maximumLength }
}
