#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A notification could not be delivered to the service manager.
///
/// The description is a sentence naming the socket and, where there is one, the system error, e.g.
/// "Could not send a notification to /run/systemd/notify: No such file or directory (errno 2)."
public struct SystemdNotifyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong; more codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case invalidSocketAddress, socketAddressTooLong, cannotCreateSocket, cannotSend, incompleteSend
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// `$NOTIFY_SOCKET` is neither an absolute path nor `@name`.
        public static let invalidSocketAddress = Code(.invalidSocketAddress)
        /// The socket path or name does not fit `sockaddr_un.sun_path` (108 bytes) or contains a NUL byte.
        public static let socketAddressTooLong = Code(.socketAddressTooLong)
        /// `socket(AF_UNIX, SOCK_DGRAM)` failed.
        public static let cannotCreateSocket = Code(.cannotCreateSocket)
        /// `sendto(2)` failed, e.g. the socket does not exist or nobody listens on it.
        public static let cannotSend = Code(.cannotSend)
        /// `sendto(2)` sent only part of the datagram.
        public static let incompleteSend = Code(.incompleteSend)

        public var description: String {
            switch base {
            case .invalidSocketAddress: "invalidSocketAddress"
            case .socketAddressTooLong: "socketAddressTooLong"
            case .cannotCreateSocket: "cannotCreateSocket"
            case .cannotSend: "cannotSend"
            case .incompleteSend: "incompleteSend"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// The notification socket as `$NOTIFY_SOCKET` spells it.
    public let socket: String
    /// The `errno` of the failing system call, if one failed.
    public let underlyingErrno: Int32?

    public init(code: Code, socket: String, errno: Int32? = nil) {
        self.code = code
        self.socket = socket
        self.underlyingErrno = errno
    }

    public var description: String {
        let sentence: String
        switch code {
        case .invalidSocketAddress:
            sentence =
                "NOTIFY_SOCKET is \"\(socket)\", which is neither an absolute path nor an abstract socket name (@name)"
        case .socketAddressTooLong:
            sentence =
                "The notification socket \(socket) does not fit a Unix socket address (at most 107 bytes, no NUL)"
        case .cannotCreateSocket:
            sentence = "Could not create a datagram socket to notify \(socket)"
        case .cannotSend:
            sentence = "Could not send a notification to \(socket)"
        case .incompleteSend:
            sentence = "Only part of a notification reached \(socket)"
        default:
            sentence = "Could not notify \(socket) (\(code))"
        }
        guard let underlyingErrno else { return sentence + "." }
        return "\(sentence): \(String(cString: strerror(underlyingErrno))) (errno \(underlyingErrno))."
    }
}
