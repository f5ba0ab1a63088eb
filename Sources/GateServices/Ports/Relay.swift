import Foundation

/// The lock relay of one door. Implementations drive hardware; the door logic only says energise or not.
public protocol Relay: AnyObject, Sendable {
    /// Sets the relay coil. Must not block: GPIO writes are a single ioctl.
    func set(energized: Bool) throws
    var isEnergized: Bool { get }
}

/// A relay that only remembers its state, for `--simulate` and tests.
public final class SimulatedRelay: Relay, @unchecked Sendable {
    // Guarded by `lock`; read by status requests from other threads.
    private let lock = NSLock()
    private var energized = false
    /// Every change, oldest first, for tests and the demo.
    private var history: [Bool] = []

    public init() {}

    public func set(energized value: Bool) throws {
        lock.withLock {
            if energized != value { history.append(value) }
            energized = value
        }
    }

    public var isEnergized: Bool { lock.withLock { energized } }
    public var changes: [Bool] { lock.withLock { history } }
}
