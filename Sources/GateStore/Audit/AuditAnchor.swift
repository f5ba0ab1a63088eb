import Crypto
import Foundation
import Glibc

/// Why the anchor file was not moved to a new head. The log itself is written either way: a refusal
/// keeps the evidence that `audit verify` reports.
public enum AuditAnchorRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// The anchor file is gone although the log has been anchored before; it is not silently recreated.
    case missing(path: String)
    /// The anchor file cannot be read or was not written by this device.
    case notAuthentic(path: String)
    /// The anchor records a later entry than the database holds: the database was rolled back.
    case behind(anchoredSeq: Int64)
    /// The database no longer holds the anchored entry as it was.
    case diverged(anchoredSeq: Int64)
    /// The file system refused the write.
    case unwritable(reason: String)

    public var description: String {
        switch self {
        case .missing(let path):
            "The audit anchor \(path) is missing; it is not recreated until `optgate audit reanchor` is run."
        case .notAuthentic(let path):
            "The audit anchor \(path) was not written by this device; it is left as evidence until `optgate audit reanchor` is run."
        case .behind(let anchored):
            "The audit anchor records entry \(anchored) but the database ends before it: the database was rolled back or cut."
        case .diverged(let anchored):
            "The database no longer holds the anchored entry \(anchored) as it was written: the log was rolled back or rewritten."
        case .unwritable(let reason):
            "The audit anchor could not be written: \(reason)"
        }
    }
}

/// `audit.anchor` in the state directory: the newest signed audit head, outside the database.
///
/// Written after each committed append, atomically (temporary file, `fsync`, `rename`, `fsync` of the
/// directory) and monotonically: it only moves to a head that extends the anchored one, so a database
/// that was truncated or restored from an older copy cannot drag the anchor back with it. Writers in
/// different processes (daemon and CLI) take `audit.anchor.lock` with `flock(2)`.
struct AuditAnchorFile: Sendable {
    let path: String
    let directory: String

    init(stateDirectory: String) {
        directory = stateDirectory
        path = "\(stateDirectory)/audit.anchor"
    }

    enum State: Equatable {
        case missing
        /// Present but unreadable, malformed or with a MAC this device did not make.
        case notAuthentic(reason: String)
        case valid(SignedAuditHead)
    }

    func read(key: SymmetricKey) -> State {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            return errno == ENOENT ? .missing : .notAuthentic(reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 1024)
        let count = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0, count < bytes.count else { return .notAuthentic(reason: "it is empty or too long") }
        guard let head = try? JSONDecoder().decode(SignedAuditHead.self, from: Data(bytes[..<count])) else {
            return .notAuthentic(reason: "it is not a signed audit head")
        }
        guard head.isAuthentic(key: key) else { return .notAuthentic(reason: "its MAC does not match") }
        return .valid(head)
    }

    /// What `advance` did.
    enum Outcome: Equatable {
        case written
        /// Another process already anchored this head or a later one of the same chain.
        case alreadyAhead
        case refused(AuditAnchorRefusal)
    }

    /// Moves the anchor to `head` if that extends the anchored head.
    /// - Parameters:
    ///   - create: write even if no anchor exists yet (the first anchoring of a log).
    ///   - force: write whatever is there (`audit reanchor`).
    ///   - hashAt: the chain hash the database now holds for a seq, `nil` if it holds no such entry.
    func advance(to head: SignedAuditHead, key: SymmetricKey, create: Bool = false, force: Bool = false,
                 hashAt: (Int64) throws -> Data?) throws -> Outcome {
        let lock = open("\(path).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard lock >= 0 else { throw GateStoreError.stateDirectory(path: directory, reason: "cannot open \(path).lock: \(errorText)") }
        defer { close(lock) }
        adoptOwnership(lock)
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else { throw GateStoreError.stateDirectory(path: directory, reason: "cannot lock \(path).lock: \(errorText)") }
        }
        if !force {
            switch read(key: key) {
            case .missing:
                if !create { return .refused(.missing(path: path)) }
            case .notAuthentic:
                return .refused(.notAuthentic(path: path))
            case .valid(let anchored):
                if anchored.seq > 0, try hashAt(anchored.seq) != anchored.hash {
                    if anchored.seq > head.seq { return .refused(.behind(anchoredSeq: anchored.seq)) }
                    return .refused(.diverged(anchoredSeq: anchored.seq))
                }
                if anchored.seq >= head.seq { return .alreadyAhead }
            }
        }
        try write(head)
        return .written
    }

    private func write(_ head: SignedAuditHead) throws {
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw GateStoreError.stateDirectory(path: directory, reason: "cannot write \(temporary): \(errorText)") }
        adoptOwnership(fd)
        var bytes = Array(try JSONEncoder().encode(head))
        bytes.append(UInt8(ascii: "\n"))
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            let reason = errorText
            unlink(temporary)
            throw GateStoreError.stateDirectory(path: directory, reason: "cannot write the audit anchor: \(reason)")
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Run as root (an administrator's `optgate`), hands the file to the state directory's owner so the
    /// daemon can go on reading and replacing it.
    private func adoptOwnership(_ fd: Int32) {
        guard geteuid() == 0 else { return }
        var info = stat()
        guard stat(directory, &info) == 0 else { return }
        _ = fchown(fd, info.st_uid, info.st_gid)
    }

    private var errorText: String { String(cString: strerror(errno)) }
}
