import CGateShims
import Foundation
import Glibc
public import Logging

/// Who is on the other end of a control connection, from the kernel (SO_PEERCRED), not from the client.
public struct ControlPeer: Sendable {
    public var pid: Int32
    public var uid: UInt32
    /// `unix:<login name>` (or `unix:uid <n>`), recorded as the operator of remote actions.
    public var operatorName: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        if getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, let name = result?.pointee.pw_name {
            return "unix:" + String(cString: name)
        }
        return "unix:uid \(uid)"
    }
}

/// The control socket: AF_UNIX stream, newline-delimited JSON, mode 0660.
///
/// Accepting and reading are blocking calls, so they run on dedicated threads (one acceptor, one per
/// connection, at most `maximumConnections`), never on the cooperative pool. Each request is handed to
/// `handler`, which answers through a callback; the connection thread waits for it with a timeout.
/// Garbage, oversized lines and slow clients get an error and never disturb the daemon.
///
/// Idle and slow clients cannot lock others out: each request line must arrive whole within
/// `requestDeadline` of the connection opening (or of the previous answer), however the bytes trickle in;
/// one Unix user holds at most `maximumConnectionsPerUser` connections; and when the socket is full, a new
/// client takes the place of the connection that has waited longest without sending a request, so
/// `optgate status` and `door open` are answered even while the slots are held.
public final class ControlServer: @unchecked Sendable {
    public typealias Handler = @Sendable (ControlRequest, ControlPeer, @escaping @Sendable (ControlResponse) -> Void) -> Void

    let path: String
    let group: String?
    let handler: Handler
    let logger: Logger
    static let maximumConnections = 16
    static let maximumConnectionsPerUser = 8
    /// Time for a whole request line to arrive, counted from the connection or the previous answer.
    static let requestDeadline: Duration = .seconds(10)
    /// An idle connection younger than this is never replaced (the newest client is refused instead).
    static let minimumIdleBeforeReplacement: Duration = .milliseconds(200)
    /// Malformed requests logged per connection; the rest are counted in one line when it closes.
    static let malformedNoticesPerConnection = 3

    private struct Connection {
        var fd: Int32
        var uid: uid_t
        /// When the connection started waiting for its next request; `nil` while a request is being answered.
        var waitingSince: ContinuousClock.Instant?
    }

    // Guarded by `lock`.
    private let lock = NSLock()
    private var listenFD: Int32 = -1
    private var connections: [Int: Connection] = [:]
    private var nextConnectionID = 0
    private var stopped = false
    private let clock = ContinuousClock()

    public init(path: String, group: String?, logger: Logger, handler: @escaping Handler) {
        self.path = path
        self.group = group
        self.logger = logger
        self.handler = handler
    }

    /// Binds the socket (replacing a stale one) and starts the acceptor thread.
    /// - Throws: `ControlServerError` when the path is in use by a live daemon or cannot be bound.
    public func start() throws {
        var existing = stat()
        if lstat(path, &existing) == 0 {
            // Only ever replace a socket: a mistyped control.socketPath must not delete someone's file.
            guard existing.st_mode & mode_t(S_IFMT) == mode_t(S_IFSOCK) else {
                throw ControlServerError(message: "the control socket path \(path) exists and is not a socket; refusing to replace it (check control.socketPath)")
            }
            if let probe = try? ControlClient.connect(path: path) {
                close(probe)
                throw ControlServerError(message: "another optgated is already serving \(path)")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlServerError(message: "socket(): \(String(cString: strerror(errno)))") }
        var address = try SocketCalls.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o660) == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ControlServerError(message: "cannot serve \(path): \(reason)")
        }
        if let group, let entry = getgrnam(group) {
            _ = chown(path, uid_t.max, entry.pointee.gr_gid)
        }
        lock.withLock { listenFD = fd }
        let thread = Thread { [self] in acceptLoop(fd) }
        thread.name = "optgate.control.accept"
        thread.start()
    }

    /// Stops accepting and removes the socket file. Open connections finish their current request.
    public func stop() {
        let fd = lock.withLock { () -> Int32 in
            stopped = true
            defer { listenFD = -1 }
            return listenFD
        }
        if fd >= 0 {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
        var existing = stat()
        if lstat(path, &existing) == 0, existing.st_mode & mode_t(S_IFMT) == mode_t(S_IFSOCK) { unlink(path) }
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if lock.withLock({ stopped }) { return }
                if errno == EMFILE || errno == ENFILE { usleep(100_000); continue }
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var peerPID: pid_t = 0, peerUID: uid_t = 0, peerGID: gid_t = 0
            guard gate_peer_credentials(client, &peerPID, &peerUID, &peerGID) == 0 else {
                close(client)
                continue
            }
            guard let id = admit(client, uid: peerUID) else {
                send(client, Self.encode(.failure("too many control connections; try again")))
                close(client)
                continue
            }
            let peer = ControlPeer(pid: peerPID, uid: peerUID)
            let thread = Thread { [self] in
                serve(client, id: id, peer: peer)
                // Forget the descriptor before closing it, so an eviction never reaches a reused number.
                lock.withLock { _ = connections.removeValue(forKey: id) }
                close(client)
            }
            thread.name = "optgate.control.connection"
            thread.start()
        }
    }

    /// Finds room for a new connection of `uid`, replacing the longest-idle connection (of the same user when
    /// that user is at its cap) if need be. - Returns: the connection's id, or `nil` when there is no room.
    private func admit(_ fd: Int32, uid: uid_t) -> Int? {
        lock.withLock { () -> Int? in
            let now = clock.now
            func longestIdle(_ candidates: [Int: Connection]) -> Int? {
                candidates.compactMap { id, connection -> (Int, ContinuousClock.Instant)? in
                    guard let since = connection.waitingSince, since.duration(to: now) >= Self.minimumIdleBeforeReplacement else { return nil }
                    return (id, since)
                }.min { $0.1 < $1.1 }?.0
            }
            let ofUser = connections.filter { $0.value.uid == uid }
            var victim: Int?
            if ofUser.count >= Self.maximumConnectionsPerUser {
                guard let idle = longestIdle(ofUser) else { return nil }
                victim = idle
            } else if connections.count >= Self.maximumConnections {
                guard let idle = longestIdle(connections) else { return nil }
                victim = idle
            }
            if let victim, let replaced = connections.removeValue(forKey: victim) {
                let notice = Self.encode(.failure("connection closed: it sent no complete request while others were waiting"))
                try? SocketCalls.sendAll(replaced.fd, notice, flags: Int32(MSG_DONTWAIT))
                shutdown(replaced.fd, Int32(SHUT_RDWR))
                logger.notice("idle control connection replaced by a new one")
            }
            let id = nextConnectionID
            nextConnectionID += 1
            connections[id] = Connection(fd: fd, uid: uid, waitingSince: now)
            return id
        }
    }

    private func setWaiting(_ id: Int, _ waiting: Bool) {
        lock.withLock { connections[id]?.waitingSince = waiting ? clock.now : nil }
    }

    private func serve(_ fd: Int32, id: Int, peer: ControlPeer) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var malformed = 0
        defer {
            if malformed > Self.malformedNoticesPerConnection {
                logger.notice("more malformed control requests on this connection were not logged",
                              metadata: ["peer.pid": "\(peer.pid)", "requests.unlogged": "\(malformed - Self.malformedNoticesPerConnection)"])
            }
        }
        var framer = ControlLineFramer(maximumLength: ControlRequest.maximumLength)
        var chunk = [UInt8](repeating: 0, count: 4096)
        var deadline = clock.now.advanced(by: Self.requestDeadline)
        while true {
            while let line = framer.nextLine() {
                setWaiting(id, false)
                let (response, wellFormed) = respond(to: line, peer: peer)
                if !wellFormed {
                    malformed += 1
                    if malformed <= Self.malformedNoticesPerConnection {
                        logger.notice("malformed control request", metadata: ["peer.pid": "\(peer.pid)", "request.bytes": "\(line.count)"])
                    }
                }
                guard send(fd, Self.encode(response)) else { return }
                setWaiting(id, true)
                deadline = clock.now.advanced(by: Self.requestDeadline)
            }
            if framer.isOverlong {
                _ = send(fd, Self.encode(.failure("request longer than \(ControlRequest.maximumLength) bytes")))
                return
            }
            let remaining = clock.now.duration(to: deadline)
            guard remaining > .zero else {
                _ = send(fd, Self.encode(.failure("no complete request within \(Self.requestDeadline); closing the connection")))
                return
            }
            let milliseconds = Int32(min(remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
            guard let ready = try? SocketCalls.waitReadable(fd, milliseconds: milliseconds) else { return }
            if !ready { continue }
            guard let count = try? SocketCalls.read(fd, into: &chunk), count > 0 else { return }
            framer.append(chunk[..<count])
        }
    }

    /// - Returns: the answer, and whether the line was a well-formed request (malformed ones are logged by the caller,
    ///   a few per connection).
    private func respond(to line: [UInt8], peer: ControlPeer) -> (ControlResponse, Bool) {
        let request: ControlRequest
        do {
            request = try JSONDecoder().decode(ControlRequest.self, from: Data(line))
        } catch {
            return (.failure("malformed request: expected one JSON object per line (see docs/control-socket.md)"), false)
        }
        let box = ResponseBox()
        handler(request, peer) { box.fill($0) }
        return (box.wait(seconds: 20) ?? .failure("the daemon did not answer in time"), true)
    }

    @discardableResult
    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        (try? SocketCalls.sendAll(fd, bytes)) != nil
    }

    static func encode(_ response: ControlResponse) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(response)) ?? Data(#"{"ok":false}"#.utf8)) + [UInt8(ascii: "\n")]
    }
}

public struct ControlServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}

/// A one-shot slot a connection thread waits on while the decision loop answers.
private final class ResponseBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var response: ControlResponse?

    func fill(_ value: ControlResponse) {
        condition.lock()
        if response == nil { response = value }
        condition.signal()
        condition.unlock()
    }

    func wait(seconds: Double) -> ControlResponse? {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while response == nil, condition.wait(until: deadline) {}
        return response
    }
}
