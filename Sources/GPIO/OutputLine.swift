import CGPIOShim
import Glibc

/// One GPIO line requested as an output, e.g. a relay coil. Released when it goes away (the kernel
/// then leaves the line at its last level; drive it to the safe level first).
///
/// `set` is a single ioctl and does not block; call it from any one thread at a time.
public struct OutputLine: ~Copyable {
    public let chip: String
    public let offset: UInt32
    private let handle: OpaquePointer

    /// Requests `offset` on `chip` (`"gpiochip0"` or `"/dev/gpiochip0"`), driven to `initial` at once.
    /// - Parameter consumer: the label `gpioinfo` shows for the line.
    /// - Throws: ``GPIOError/requestOutput(chip:line:errno:)``.
    public init(chip: String, offset: UInt32, initial: Bool, consumer: String = "optgated") throws(GPIOError) {
        guard let handle = gate_gpio_open_output(chip, offset, initial ? 1 : 0, consumer) else {
            throw .requestOutput(chip: chip, line: offset, errno: errno)
        }
        self.chip = chip
        self.offset = offset
        self.handle = handle
    }

    /// Drives the line high (`true`) or low: the physical level, polarity is the caller's business.
    public func set(_ high: Bool) throws(GPIOError) {
        if gate_gpio_set(handle, high ? 1 : 0) < 0 { throw .set(chip: chip, line: offset, errno: errno) }
    }

    deinit { gate_gpio_close(handle) }
}

/// The libgpiod this binary was built against.
public enum GPIOLibrary {
    /// 1 (libgpiod 1.x, Debian 12) or 2 (libgpiod 2.x).
    public static var apiMajor: Int { Int(gate_gpio_api_major()) }
    /// e.g. "1.6.3".
    public static var version: String { String(cString: gate_gpio_library_version()) }
    /// e.g. "libgpiod 1.6.3 (API v1)".
    public static var description: String { "libgpiod \(version) (API v\(apiMajor))" }
}
