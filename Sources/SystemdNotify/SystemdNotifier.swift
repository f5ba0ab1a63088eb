#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#else
#error("SystemdNotify supports Linux only")
#endif

/// Sends service state notifications to the service manager, as `sd_notify(3)` does, without libsystemd.
///
/// systemd passes the socket in `$NOTIFY_SOCKET`: an absolute filesystem path, or `@name` for a socket in the
/// abstract namespace. Each notification is one `AF_UNIX` `SOCK_DGRAM` datagram of newline-separated
/// `KEY=VALUE` assignments. Without `$NOTIFY_SOCKET` (not started by systemd, or a unit that is not
/// `Type=notify`), every call does nothing and returns `false`.
///
/// The notifier is a value read once from the environment; it holds no file descriptor between calls and no
/// global state, so it can be copied into any task.
///
/// ```swift
/// let notifier = SystemdNotifier()
/// try notifier.ready(status: "Waiting for credentials")
/// if let interval = notifier.watchdogInterval { /* send notifier.watchdog() every interval */ }
/// try notifier.stopping()
/// ```
public struct SystemdNotifier: Sendable, Hashable {
    /// Where the notifications go.
    public enum SocketAddress: Sendable, Hashable, CustomStringConvertible {
        /// A socket bound to an absolute filesystem path, such as `/run/systemd/notify`.
        case path(String)
        /// A socket in the Linux abstract namespace; `$NOTIFY_SOCKET` spells it `@name`. The name excludes the `@`.
        case abstract(String)

        public var description: String {
            switch self {
            case .path(let path): path
            case .abstract(let name): "@\(name)"
            }
        }
    }

    /// The socket from `$NOTIFY_SOCKET`, or `nil` when it is unset or empty (every call is then a no-op).
    public let socketAddress: SocketAddress?

    /// Half the watchdog period from `$WATCHDOG_USEC`: send ``watchdog()`` at least this often.
    ///
    /// `nil` when the unit has no `WatchdogSec=`, when the value is not a positive integer, or when
    /// `$WATCHDOG_PID` names another process (as `sd_watchdog_enabled(3)` checks).
    public let watchdogInterval: Duration?

    /// The `$NOTIFY_SOCKET` value that is neither an absolute path nor `@name`; sending then throws.
    private let invalidSocket: String?

    /// Creates a notifier from the process environment (`$NOTIFY_SOCKET`, `$WATCHDOG_USEC`, `$WATCHDOG_PID`).
    public init() {
        var environment: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        self.init(environment: environment, processID: getpid())
    }

    /// Creates a notifier from an explicit environment, for tests and for callers that read it themselves.
    ///
    /// - Parameters:
    ///   - environment: Variables as in the process environment; only `NOTIFY_SOCKET`, `WATCHDOG_USEC` and
    ///     `WATCHDOG_PID` are read.
    ///   - processID: The process `$WATCHDOG_PID` must name for the watchdog to apply; `nil` means this process.
    public init(environment: [String: String], processID: Int32? = nil) {
        let socket = environment["NOTIFY_SOCKET"] ?? ""
        if socket.isEmpty {
            (socketAddress, invalidSocket) = (nil, nil)
        } else if socket.hasPrefix("/") {
            (socketAddress, invalidSocket) = (.path(socket), nil)
        } else if socket.hasPrefix("@"), socket.utf8.count > 1 {
            (socketAddress, invalidSocket) = (.abstract(String(socket.dropFirst())), nil)
        } else {
            (socketAddress, invalidSocket) = (nil, socket)
        }
        watchdogInterval = Self.watchdogInterval(
            microseconds: environment["WATCHDOG_USEC"],
            pid: environment["WATCHDOG_PID"],
            processID: processID ?? getpid()
        )
    }

    /// `true` when `$NOTIFY_SOCKET` is set: calls send a datagram (or throw, if the value is malformed).
    public var isEnabled: Bool { socketAddress != nil || invalidSocket != nil }

    // MARK: - Notifications

    /// Tells the service manager that start-up is finished (`READY=1`), optionally with a status line.
    ///
    /// - Parameter status: Shown by `systemctl status` (`STATUS=`); newlines become spaces.
    /// - Returns: `true` if the datagram was sent, `false` if there is no `$NOTIFY_SOCKET`.
    /// - Throws: ``SystemdNotifyError`` when the socket is malformed or the datagram cannot be sent.
    @discardableResult
    public func ready(status: String? = nil) throws(SystemdNotifyError) -> Bool {
        try send(["READY=1"] + Self.statusAssignment(status))
    }

    /// Updates the free-form status line shown by `systemctl status` (`STATUS=`); newlines become spaces.
    @discardableResult
    public func status(_ status: String) throws(SystemdNotifyError) -> Bool {
        try send(Self.statusAssignment(status))
    }

    /// Pets the watchdog (`WATCHDOG=1`). Send it every ``watchdogInterval``, and only while the service makes
    /// progress: a stuck service should be restarted.
    @discardableResult
    public func watchdog() throws(SystemdNotifyError) -> Bool {
        try send(["WATCHDOG=1"])
    }

    /// Tells the service manager that the service is shutting down (`STOPPING=1`).
    @discardableResult
    public func stopping(status: String? = nil) throws(SystemdNotifyError) -> Bool {
        try send(["STOPPING=1"] + Self.statusAssignment(status))
    }

    /// Tells the service manager that the service is reloading its configuration (`RELOADING=1`).
    ///
    /// As `sd_notify(3)` requires, the datagram carries `MONOTONIC_USEC=` with the current `CLOCK_MONOTONIC`
    /// time in microseconds. Send ``ready(status:)`` when the reload is complete.
    @discardableResult
    public func reloading(status: String? = nil) throws(SystemdNotifyError) -> Bool {
        try send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"] + Self.statusAssignment(status))
    }

    /// Asks for more start-up (or shutdown) time than `TimeoutStartSec=` (`EXTEND_TIMEOUT_USEC=`), for example
    /// while a long database migration runs. Repeat before the extension runs out.
    @discardableResult
    public func extendTimeout(by duration: Duration) throws(SystemdNotifyError) -> Bool {
        let (seconds, attoseconds) = duration.components
        let microseconds = max(0, seconds) * 1_000_000 + max(0, attoseconds) / 1_000_000_000_000
        return try send(["EXTEND_TIMEOUT_USEC=\(microseconds)"])
    }

    /// Sends one datagram of `KEY=VALUE` assignments, one per line, as they are.
    ///
    /// - Returns: `true` if the datagram was sent, `false` if there is no `$NOTIFY_SOCKET` (or nothing to send).
    /// - Throws: ``SystemdNotifyError`` when the socket is malformed or the datagram cannot be sent.
    @discardableResult
    public func send(_ assignments: [String]) throws(SystemdNotifyError) -> Bool {
        if let invalidSocket { throw SystemdNotifyError(code: .invalidSocketAddress, socket: invalidSocket) }
        guard let socketAddress, !assignments.isEmpty else { return false }
        try Self.sendDatagram(Array(assignments.joined(separator: "\n").utf8), to: socketAddress)
        return true
    }

    // MARK: - Internals

    private static func statusAssignment(_ status: String?) -> [String] {
        guard let status else { return [] }
        let oneLine = status.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ")
        return ["STATUS=\(oneLine)"]
    }

    private static func watchdogInterval(microseconds: String?, pid: String?, processID: Int32) -> Duration? {
        guard let microseconds, let period = UInt64(microseconds), period > 0 else { return nil }
        if let pid, !pid.isEmpty {
            guard let watched = Int32(pid), watched == processID else { return nil }
        }
        return .microseconds(period / 2)
    }

    /// `CLOCK_MONOTONIC` in microseconds. Swift's `ContinuousClock` reads `CLOCK_BOOTTIME` on Linux, which is
    /// not the clock systemd compares against.
    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    /// One `socket(AF_UNIX, SOCK_DGRAM)` + `sendto(2)` + `close(2)` per notification, like `sd_notify(3)`.
    private static func sendDatagram(_ payload: [UInt8], to address: SocketAddress) throws(SystemdNotifyError) {
        let socketName = address.description
        var unixAddress = sockaddr_un()
        unixAddress.sun_family = sa_family_t(AF_UNIX)
        let nameBytes: [UInt8]
        switch address {
        case .path(let path): nameBytes = Array(path.utf8) + [0]
        case .abstract(let name): nameBytes = [0] + Array(name.utf8)
        }
        let capacity = MemoryLayout.size(ofValue: unixAddress.sun_path)
        guard nameBytes.count <= capacity, !nameBytes.dropFirst().dropLast().contains(0) else {
            throw SystemdNotifyError(code: .socketAddressTooLong, socket: socketName)
        }
        withUnsafeMutableBytes(of: &unixAddress.sun_path) { $0.copyBytes(from: nameBytes) }
        // Abstract names are counted exactly; paths include their terminating NUL.
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + nameBytes.count)

        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else {
            throw SystemdNotifyError(code: .cannotCreateSocket, socket: socketName, errno: errno)
        }
        defer { close(descriptor) }

        while true {
            let sent = payload.withUnsafeBytes { bytes in
                withUnsafePointer(to: &unixAddress) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(descriptor, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
                    }
                }
            }
            if sent == payload.count { return }
            if sent < 0, errno == EINTR { continue }
            if sent < 0 { throw SystemdNotifyError(code: .cannotSend, socket: socketName, errno: errno) }
            throw SystemdNotifyError(code: .incompleteSend, socket: socketName)
        }
    }
}
