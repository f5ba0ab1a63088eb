import Glibc

/// The one place the control socket's descriptors meet errno: every call retries on `EINTR`, writes go on
/// after a short write, and a failure comes back as a `SocketError` naming the call. The CLI's client and
/// the daemon's server both use it, so neither handles interrupts or partial writes on its own.
enum SocketCalls {
    /// Writes all of `bytes` (`send` with `MSG_NOSIGNAL`: a peer that has gone away gives `EPIPE`, never
    /// `SIGPIPE`), retrying on `EINTR` and after short writes.
    /// - Throws: `SocketError` from `send`; a send that accepts nothing reads as `EPIPE`.
    static func sendAll(_ fd: Int32, _ bytes: some Collection<UInt8>, flags: Int32 = 0) throws(SocketError) {
        let bytes = Array(bytes)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | flags) }
            if sent < 0 {
                if errno == EINTR { continue }
                throw SocketError(call: "send", code: errno)
            }
            guard sent > 0 else { throw SocketError(call: "send", code: EPIPE) }
            offset += sent
        }
    }

    /// Reads what is there (up to `buffer.count` bytes), retrying on `EINTR`.
    /// - Returns: the number of bytes read; 0 at end of stream.
    /// - Throws: `SocketError` from `read`.
    static func read(_ fd: Int32, into buffer: inout [UInt8]) throws(SocketError) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw SocketError(call: "read", code: errno)
        }
    }

    /// Waits until `fd` is readable or `milliseconds` pass.
    /// - Returns: whether the descriptor is readable (or at end of stream); `false` also when a signal
    ///   interrupted the wait (`EINTR`), so the caller checks its deadline and waits again.
    /// - Throws: `SocketError` from `poll`.
    static func waitReadable(_ fd: Int32, milliseconds: Int32) throws(SocketError) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, milliseconds)
        if ready >= 0 { return ready > 0 }
        if errno == EINTR { return false }
        throw SocketError(call: "poll", code: errno)
    }

    /// An `AF_UNIX` address for `path`.
    /// - Throws: `ControlServerError` when the path does not fit in `sun_path`.
    static func address(_ path: String) throws(ControlServerError) -> sockaddr_un {
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
}

/// A failed socket call: which one, and its errno.
public struct SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The C function that failed (`send`, `read`, `poll`, `connect`…).
    public var call: String
    public var code: Int32

    public var description: String { "\(call)(): \(String(cString: strerror(code)))" }
}
