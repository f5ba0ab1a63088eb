import GateCore

/// A manual instant: tests say exactly when things happen.
struct T: InstantProtocol, CustomStringConvertible {
    var offset: Duration

    static func at(_ seconds: Double) -> T { T(offset: .milliseconds(Int64(seconds * 1000))) }
    func advanced(by duration: Duration) -> T { T(offset: offset + duration) }
    func duration(to other: T) -> Duration { other.offset - offset }
    static func < (lhs: T, rhs: T) -> Bool { lhs.offset < rhs.offset }
    var description: String { "t=\(offset)" }
}
