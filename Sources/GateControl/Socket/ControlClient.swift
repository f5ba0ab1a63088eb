import Foundation
import Glibc

/// The CLI's side of the control socket: connects, writes one request line, reads one answer line.
///
/// Writes go through `SocketCalls` (short writes and `EINTR` handled there). A daemon that refuses the
/// connection (too many connections) writes why and closes: a failed write is therefore not the end, the
/// answer is still read.
public struct ControlClient: Sendable {
    public let path: String

    /// Longest answer line accepted (a status of many doors and services is a few kilobytes).
    public static let maximumResponseLength = 1 << 20

    public init(path: String) {
        self.path = path
    }

    /// Sends `request` on a new connection and waits for the answer.
    /// - Returns: the daemon's answer, also when it says `ok: false` (the caller decides what a refusal means).
    /// - Throws: `ControlClientError`: the daemon cannot be reached, closed without answering, or answered
    ///   something that is not a response.
    public func send(_ request: ControlRequest) throws(ControlClientError) -> ControlResponse {
        let fd: Int32
        do {
            fd = try Self.connect(path: path)
        } catch {
            throw .unreachable(error)
        }
        defer { close(fd) }
        return try exchange(request, on: fd)
    }

    /// Sends `request` on the connected `fd` and reads one answer line.
    /// - Throws: `ControlClientError` (never `.unreachable`).
    public func exchange(_ request: ControlRequest, on fd: Int32) throws(ControlClientError) -> ControlResponse {
        let line: [UInt8]
        do {
            line = Array(try JSONEncoder().encode(request)) + [UInt8(ascii: "\n")]
        } catch {
            throw .malformedResponse("the request could not be encoded: \(error)")
        }
        // A refused connection has its answer waiting even though the write failed.
        var writeError: SocketError?
        do { try SocketCalls.sendAll(fd, line) } catch { writeError = error }
        var framer = ControlLineFramer(maximumLength: Self.maximumResponseLength)
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let answer = framer.nextLine() {
                do {
                    return try JSONDecoder().decode(ControlResponse.self, from: Data(answer))
                } catch {
                    throw .malformedResponse("optgated answered something that is not a control response")
                }
            }
            if framer.isOverlong { throw .malformedResponse("optgated answered more than \(Self.maximumResponseLength) bytes") }
            let count: Int
            do {
                count = try SocketCalls.read(fd, into: &chunk)
            } catch {
                throw .closedWithoutAnswer(writeError ?? error)
            }
            guard count > 0 else { throw .closedWithoutAnswer(writeError) }
            framer.append(chunk[..<count])
        }
    }

    /// Connects to a control socket. - Returns: the connected descriptor (close-on-exec).
    /// - Throws: `ControlServerError` naming the path and the reason.
    public static func connect(path: String) throws(ControlServerError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlServerError(message: "socket(): \(String(cString: strerror(errno)))") }
        var address = try SocketCalls.address(path)
        // Not retried on EINTR: the connection would go on in the background (POSIX), and an AF_UNIX connect
        // does not block long enough for a signal to matter.
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

/// Why a control request got no answer.
public enum ControlClientError: Error, Sendable, CustomStringConvertible {
    /// No daemon listens at the path (or it cannot be reached).
    case unreachable(ControlServerError)
    /// The daemon closed the connection before a whole answer line arrived; the write's or read's error
    /// when there was one.
    case closedWithoutAnswer(SocketError?)
    /// The answer line was not a control response.
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .unreachable(let error): "optgated is not running (\(error)); start it first"
        case .closedWithoutAnswer: "optgated closed the connection without answering"
        case .malformedResponse(let reason): reason
        }
    }
}
