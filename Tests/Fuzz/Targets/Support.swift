// Shared by every fuzz target (compiled into each): a clock the input controls and a byte reader.

/// An instant that only moves when the input says so (the state machines never read a clock).
struct FuzzInstant: InstantProtocol, Sendable {
    var offset: Duration
    func advanced(by duration: Duration) -> FuzzInstant { FuzzInstant(offset: offset + duration) }
    func duration(to other: FuzzInstant) -> Duration { other.offset - offset }
    static func < (lhs: FuzzInstant, rhs: FuzzInstant) -> Bool { lhs.offset < rhs.offset }
}

/// Consumes the fuzzer's bytes front to back; reads past the end give zeros.
struct FuzzReader {
    private let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position = 0

    init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeBufferPointer(start: data, count: size)
    }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uint16() -> UInt16 { UInt16(byte()) | UInt16(byte()) << 8 }

    /// The rest of the input.
    mutating func rest() -> [UInt8] {
        guard position < bytes.count else { return [] }
        defer { position = bytes.count }
        return Array(bytes[position...])
    }

    /// A time step spanning microseconds to minutes: the low bits pick a scale, so short glitches,
    /// typical gaps and timeouts are all reachable.
    mutating func step() -> Duration {
        let value = Int64(byte())
        switch value & 3 {
        case 0: return .microseconds(value >> 2)
        case 1: return .microseconds((value >> 2) * 50)
        case 2: return .milliseconds((value >> 2) * 10)
        default: return .seconds(value >> 2)
        }
    }
}

/// `precondition` that keeps its message in optimised builds, so the fuzzer's log says what broke.
func require(_ condition: Bool, _ message: @autoclosure () -> String = "a fuzz invariant failed",
             file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}
