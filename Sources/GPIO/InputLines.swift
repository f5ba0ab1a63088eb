import CGPIOShim
import Glibc

/// A level change on an input line, as the kernel timestamped it.
public struct EdgeEvent: Sendable, Hashable {
    /// The line's offset on its chip.
    public var offset: UInt32
    /// `true`: the physical level went high; `false`: it went low.
    public var rising: Bool
    /// Kernel timestamp (`CLOCK_MONOTONIC`) in nanoseconds.
    public var timestampNanoseconds: UInt64
}

/// Input lines of one chip requested with both-edge event detection (door contact, REX, fire, tamper).
/// Released when it goes away.
///
/// `waitForEvents` blocks up to its timeout: call it from a dedicated thread, never from Swift's
/// cooperative pool, and from one thread at a time.
public struct InputLines: ~Copyable {
    public let chip: String
    /// The requested offsets, in request order (the order of ``levels()``).
    public let offsets: [UInt32]
    private let handle: OpaquePointer

    /// - Throws: ``GPIOError/requestInputs(chip:lines:errno:)`` (no such chip or line, line busy, 0 or > 64 lines).
    /// - Parameter fallingOnly: report falling edges only (Wiegand); both edges otherwise.
    public init(chip: String, offsets: [UInt32], consumer: String = "optgated", fallingOnly: Bool = false) throws(GPIOError) {
        let opened = offsets.withUnsafeBufferPointer {
            gate_gpio_open_inputs_edges(chip, $0.baseAddress, $0.count, consumer, fallingOnly ? 1 : 0)
        }
        guard let opened else { throw .requestInputs(chip: chip, lines: offsets, errno: errno) }
        self.chip = chip
        self.offsets = offsets
        handle = opened
    }

    deinit { gate_gpio_inputs_close(handle) }

    /// The current physical level of every line, in ``offsets`` order.
    public func levels() throws(GPIOError) -> [Bool] {
        var values = [Int32](repeating: 0, count: offsets.count)
        if gate_gpio_inputs_get(handle, &values) < 0 { throw .read(chip: chip, errno: errno) }
        return values.map { $0 != 0 }
    }

    /// Blocks up to `timeout` for edge events.
    /// - Returns: the pending events, oldest first per line; empty on timeout.
    public func waitForEvents(timeout: Duration) throws(GPIOError) -> [EdgeEvent] {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        var ready: Int32
        repeat {
            ready = gate_gpio_inputs_wait(handle, nanoseconds)
        } while ready < 0 && errno == EINTR
        if ready < 0 { throw .events(chip: chip, errno: errno) }
        guard ready > 0 else { return [] }
        var raw = [gate_gpio_edge](repeating: gate_gpio_edge(), count: 64)
        let count = gate_gpio_inputs_read(handle, &raw, raw.count)
        if count < 0 { throw .events(chip: chip, errno: errno) }
        // libgpiod 1.x reads line by line: restore the kernel's order across lines.
        return raw.prefix(Int(count)).map {
            EdgeEvent(offset: $0.offset, rising: $0.rising != 0, timestampNanoseconds: $0.timestamp_ns)
        }.sorted { $0.timestampNanoseconds < $1.timestampNanoseconds }
    }
}
