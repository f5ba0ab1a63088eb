import SystemdNotify
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A bound `AF_UNIX` `SOCK_DGRAM` socket standing in for systemd's notification socket.
private final class DatagramReceiver {
    let descriptor: Int32
    /// The value to put in `NOTIFY_SOCKET`.
    let notifySocket: String
    private let pathToRemove: String?

    /// Binds a socket at a fresh filesystem path in a fresh temporary directory.
    static func atPath() throws -> DatagramReceiver {
        var template = Array("/tmp/sdnotify-test-XXXXXX".utf8CString)
        let directory = try template.withUnsafeMutableBufferPointer { buffer in
            guard let made = mkdtemp(buffer.baseAddress!) else { throw ReceiverError(call: "mkdtemp") }
            return String(cString: made)
        }
        return try DatagramReceiver(notifySocket: "\(directory)/notify", pathToRemove: "\(directory)/notify")
    }

    /// Binds a socket in the abstract namespace under a name unique to this process and call.
    static func abstract() throws -> DatagramReceiver {
        try DatagramReceiver(
            notifySocket: "@sdnotify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))",
            pathToRemove: nil
        )
    }

    private init(notifySocket: String, pathToRemove: String?) throws {
        self.notifySocket = notifySocket
        self.pathToRemove = pathToRemove
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ReceiverError(call: "socket") }

        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let name: [UInt8] =
            notifySocket.hasPrefix("@") ? [0] + Array(notifySocket.utf8.dropFirst()) : Array(notifySocket.utf8) + [0]
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw ReceiverError(call: "bind")
        }
        // Never hang a test run: a missing datagram fails after two seconds.
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        if let pathToRemove {
            unlink(pathToRemove)
            rmdir(String(pathToRemove.dropLast("/notify".count)))
        }
    }

    /// The next datagram, as text.
    func receive() throws -> String {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else { throw ReceiverError(call: "recv") }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// `true` if a datagram is waiting.
    func hasPending() -> Bool {
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_DONTWAIT) | Int32(MSG_PEEK)) >= 0
    }
}

private struct ReceiverError: Error, CustomStringConvertible {
    let call: String
    let code = errno
    var description: String { "\(call) failed: \(String(cString: strerror(code)))." }
}

@Suite("SystemdNotifier sends sd_notify datagrams")
struct SystemdNotifierTests {
    @Test("Every helper sends its exact datagram to a filesystem socket")
    func filesystemSocket() throws {
        let receiver = try DatagramReceiver.atPath()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.notifySocket])
        #expect(notifier.socketAddress == .path(receiver.notifySocket))
        #expect(notifier.isEnabled)

        #expect(try notifier.ready())
        #expect(try receiver.receive() == "READY=1")
        #expect(try notifier.ready(status: "Doors locked, waiting for credentials"))
        #expect(try receiver.receive() == "READY=1\nSTATUS=Doors locked, waiting for credentials")
        #expect(try notifier.status("Camera lost\nretrying"))
        #expect(try receiver.receive() == "STATUS=Camera lost retrying")
        #expect(try notifier.watchdog())
        #expect(try receiver.receive() == "WATCHDOG=1")
        #expect(try notifier.stopping())
        #expect(try receiver.receive() == "STOPPING=1")
        #expect(try notifier.extendTimeout(by: .seconds(90)))
        #expect(try receiver.receive() == "EXTEND_TIMEOUT_USEC=90000000")
        #expect(try notifier.send(["MAINPID=42", "STATUS=custom"]))
        #expect(try receiver.receive() == "MAINPID=42\nSTATUS=custom")
        #expect(!receiver.hasPending())
    }

    @Test("Every helper sends its exact datagram to an abstract socket")
    func abstractSocket() throws {
        let receiver = try DatagramReceiver.abstract()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.notifySocket])
        #expect(notifier.socketAddress == .abstract(String(receiver.notifySocket.dropFirst())))

        try notifier.ready(status: "ready")
        #expect(try receiver.receive() == "READY=1\nSTATUS=ready")
        try notifier.watchdog()
        #expect(try receiver.receive() == "WATCHDOG=1")
        try notifier.stopping(status: "locking doors")
        #expect(try receiver.receive() == "STOPPING=1\nSTATUS=locking doors")
        #expect(!receiver.hasPending())
    }

    @Test("RELOADING=1 carries the current CLOCK_MONOTONIC time in microseconds")
    func reloadingCarriesMonotonicTime() throws {
        let receiver = try DatagramReceiver.abstract()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": receiver.notifySocket])
        let before = monotonicMicroseconds()
        try notifier.reloading(status: "reloading configuration")
        let after = monotonicMicroseconds()

        let lines = try receiver.receive().split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines.first == "RELOADING=1")
        #expect(lines.last == "STATUS=reloading configuration")
        let stamp = try #require(lines.dropFirst().first.flatMap { $0.split(separator: "=", maxSplits: 1).last })
        #expect(lines[1].hasPrefix("MONOTONIC_USEC="))
        let microseconds = try #require(UInt64(stamp))
        #expect((before...after).contains(microseconds))
    }

    @Test("Without NOTIFY_SOCKET every call is a no-op that returns false")
    func noSocket() throws {
        for environment in [[:], ["NOTIFY_SOCKET": ""]] {
            let notifier = SystemdNotifier(environment: environment)
            #expect(notifier.socketAddress == nil)
            #expect(!notifier.isEnabled)
            #expect(try !notifier.ready(status: "x"))
            #expect(try !notifier.watchdog())
            #expect(try !notifier.reloading())
            #expect(try !notifier.stopping())
        }
    }

    @Test("A relative NOTIFY_SOCKET is refused with a sentence")
    func invalidSocket() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "run/notify"])
        #expect(notifier.socketAddress == nil)
        let error = #expect(throws: SystemdNotifyError.self) { try notifier.ready() }
        #expect(error?.code == .invalidSocketAddress)
        #expect(
            error?.description
                == "NOTIFY_SOCKET is \"run/notify\", which is neither an absolute path nor an abstract socket name (@name)."
        )
    }

    @Test("A socket nobody listens on fails with the system error")
    func missingSocket() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/nonexistent/optgate/notify"])
        let error = #expect(throws: SystemdNotifyError.self) { try notifier.watchdog() }
        #expect(error?.code == .cannotSend)
        #expect(error?.underlyingErrno == ENOENT)
        #expect(
            error?.description
                == "Could not send a notification to /nonexistent/optgate/notify: No such file or directory (errno 2)."
        )
    }

    @Test("A socket path longer than sun_path is refused")
    func tooLongSocket() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/" + String(repeating: "a", count: 120)])
        let error = #expect(throws: SystemdNotifyError.self) { try notifier.ready() }
        #expect(error?.code == .socketAddressTooLong)
    }

    @Test(
        "The watchdog interval is half of WATCHDOG_USEC, for this process only",
        arguments: [
            (["WATCHDOG_USEC": "10000000"], Duration.seconds(5)),
            (["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "4242"], Duration.seconds(5)),
            (["WATCHDOG_USEC": "3", "WATCHDOG_PID": "4242"], Duration.microseconds(1)),
            (["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"], nil),
            (["WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "pid"], nil),
            (["WATCHDOG_USEC": "0"], nil),
            (["WATCHDOG_USEC": "-5"], nil),
            (["WATCHDOG_USEC": "ten"], nil),
            ([:], nil),
        ] as [([String: String], Duration?)]
    )
    func watchdogInterval(environment: [String: String], expected: Duration?) {
        #expect(SystemdNotifier(environment: environment, processID: 4242).watchdogInterval == expected)
    }

    @Test("The process environment is read by init()")
    func processEnvironment() {
        // Only reads: the test process runs without NOTIFY_SOCKET unless started by systemd.
        let notifier = SystemdNotifier()
        let expected = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        #expect(notifier.socketAddress?.description == (expected?.isEmpty == false ? expected : nil))
    }
}

private func monotonicMicroseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
}
