import Foundation
public import GPIO

/// A door's lock relay on a GPIO output line (libgpiod). The line is requested at the de-energised
/// level when the daemon constructs its services, so a missing chip or a busy line stops startup
/// before READY; `GateService` drives it to the safe level at shutdown, and the line is released when
/// the relay is deallocated.
///
/// Threads: `set` is one ioctl (GPIO_V2_LINE_SET_VALUES / GPIOHANDLE_SET_LINE_VALUES) and is called
/// from the decision loop's task; it does not block.
public final class GPIORelay: Relay, @unchecked Sendable {
    // `line` and `energized` are guarded by `lock`: status requests read from other threads.
    private let lock = NSLock()
    private let line: OutputLine
    private var energized = false
    /// `relayActiveLow`: the coil is energised by driving the line low.
    public let activeLow: Bool

    /// - Throws: ``GPIOError`` naming the chip, line and errno.
    public init(chip: String, line offset: UInt32, activeLow: Bool) throws(GPIOError) {
        line = try OutputLine(chip: chip, offset: offset, initial: activeLow, consumer: "optgated relay")
        self.activeLow = activeLow
    }

    public func set(energized value: Bool) throws {
        try lock.withLock {
            try line.set(value != activeLow)
            energized = value
        }
    }

    public var isEnergized: Bool { lock.withLock { energized } }
}
