import CGateShims
import Foundation
public import GateControl
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
public final class ControlServer: @unchecked Sendable {
    public typealias Handler = @Sendable (ControlRequest, ControlPeer, @escaping @Sendable (ControlResponse) -> Void) -> Void

    let path: String
    let group: String?
    let handler: Handler
    let logger: Logger
    static let maximumConnections = 16
    // Guarded by `lock`.
    private let lock = NSLock()
    private var listenFD: Int32 = -1
    private var connections = 0
    private var stopped = false

    public init(path: String, group: String?, logger: Logger, handler: @escaping Handler) {
        self.path = path
        self.group = group
        self.logger = logger
        self.handler = handler
    }

    /// Binds the socket (replacing a stale one) and starts the acceptor thread.
    /// - Throws: `ControlServerError` when the path is in use by a live daemon or cannot be bound.
    public func start() throws {
        if FileManager.default.fileExists(atPath: path) {
            if let probe = try? Self.connect(path: path) {
                close(probe)
                throw ControlServerError(message: "another optgated is already serving \(path)")
            }
            unlink(path)
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlServerError(message: "socket(): \(String(cString: strerror(errno)))") }
        var address = try Self.address(path)
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
        unlink(path)
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
            let admitted = lock.withLock { () -> Bool in
                guard connections < Self.maximumConnections else { return false }
                connections += 1
                return true
            }
            guard admitted else {
                send(client, Self.encode(.failure("too many control connections; try again")))
                close(client)
                continue
            }
            let thread = Thread { [self] in
                serve(client)
                close(client)
                lock.withLock { connections -= 1 }
            }
            thread.name = "optgate.control.connection"
            thread.start()
        }
    }

    private func serve(_ fd: Int32) {
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var peerPID: pid_t = 0, peerUID: uid_t = 0, peerGID: gid_t = 0
        guard gate_peer_credentials(fd, &peerPID, &peerUID, &peerGID) == 0 else { return }
        let peer = ControlPeer(pid: peerPID, uid: peerUID)
        var framer = ControlLineFramer(maximumLength: ControlRequest.maximumLength)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            while let line = framer.nextLine() {
                guard send(fd, Self.encode(respond(to: line, peer: peer))) else { return }
            }
            if framer.isOverlong {
                _ = send(fd, Self.encode(.failure("request longer than \(ControlRequest.maximumLength) bytes")))
                return
            }
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            framer.append(chunk[..<count])
        }
    }

    private func respond(to line: [UInt8], peer: ControlPeer) -> ControlResponse {
        let request: ControlRequest
        do {
            request = try JSONDecoder().decode(ControlRequest.self, from: Data(line))
        } catch {
            logger.notice("malformed control request", metadata: ["peer.pid": "\(peer.pid)", "request.bytes": "\(line.count)"])
            return .failure("malformed request: expected one JSON object per line (see docs/control-socket.md)")
        }
        let box = ResponseBox()
        handler(request, peer) { box.fill($0) }
        return box.wait(seconds: 20) ?? .failure("the daemon did not answer in time")
    }

    @discardableResult
    private func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    static func encode(_ response: ControlResponse) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(response)) ?? Data(#"{"ok":false}"#.utf8)) + [UInt8(ascii: "\n")]
    }

    static func address(_ path: String) throws -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlServerError(message: "the socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }

    /// Connects to a control socket. - Returns: the connected descriptor.
    public static func connect(path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlServerError(message: "socket(): \(String(cString: strerror(errno)))") }
        var address = try address(path)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw ControlServerError(message: "cannot reach optgated at \(path): \(reason)")
        }
        return fd
    }
}

public struct ControlServerError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
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
