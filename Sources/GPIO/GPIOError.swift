import Glibc

/// A GPIO failure, read as a sentence, with the errno libgpiod left.
public enum GPIOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Requesting `line` on `chip` as an output failed (no such chip, line busy, permission).
    case requestOutput(chip: String, line: UInt32, errno: Int32)
    /// Requesting input lines with edge events failed.
    case requestInputs(chip: String, lines: [UInt32], errno: Int32)
    /// Setting an output line failed.
    case set(chip: String, line: UInt32, errno: Int32)
    /// Reading input levels failed.
    case read(chip: String, errno: Int32)
    /// Waiting for or reading edge events failed.
    case events(chip: String, errno: Int32)

    public var errno: Int32 {
        switch self {
        case .requestOutput(_, _, let code), .requestInputs(_, _, let code), .set(_, _, let code),
            .read(_, let code), .events(_, let code):
            code
        }
    }

    public var description: String {
        switch self {
        case .requestOutput(let chip, let line, let code):
            "cannot request line \(line) of \(chip) as an output: \(Self.text(code))"
        case .requestInputs(let chip, let lines, let code):
            "cannot request lines \(lines.map(String.init).joined(separator: ", ")) of \(chip) as inputs with edge events: \(Self.text(code))"
        case .set(let chip, let line, let code): "cannot set line \(line) of \(chip): \(Self.text(code))"
        case .read(let chip, let code): "cannot read input levels of \(chip): \(Self.text(code))"
        case .events(let chip, let code): "cannot read edge events of \(chip): \(Self.text(code))"
        }
    }

    static func text(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
