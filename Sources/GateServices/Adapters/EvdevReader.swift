import CEvdev
import Foundation
public import GateCore
import GateStore
public import Logging
public import ServiceLifecycle

/// A USB PIN pad or keyboard-wedge card reader seen as an evdev node (`/dev/input/by-id/…-event-kbd`).
///
/// The node is opened and grabbed exclusively (`EVIOCGRAB`), so what the reader types never reaches a
/// console or another program. Events are read on a dedicated thread and decoded by key code, never
/// through a keymap (docs/readers.md):
/// - `keypad`: every key press becomes `.key(door:, KeypadKey, keypad: devicePath)`; PIN entry and its timeout are the
///   gate's business;
/// - `wedge`: keys are collected until Enter and converted to a card UID (`WedgeEntry`), then submitted
///   as `.card(door:, uid:)`; keys further apart than the inter-key timeout start over.
///
/// A device that is missing or unplugged (`ENOENT`, `ENODEV`) is reopened with backoff; the loss and
/// the return are logged once each. Full UIDs and keys are never logged.
public final class EvdevReader: Service, Sendable {
    public enum Role: Sendable, Hashable {
        case keypad
        case wedge(WedgeRules)
    }

    public let door: String
    public let devicePath: String
    public let role: Role
    let exclusive: Bool
    let backoff: ReaderBackoff
    let logger: Logger
    let sink: ReaderSink
    let floodGuard: ReaderFloodGuard?
    private let thread: ServiceThread

    /// - Parameters:
    ///   - exclusive: grab the device with `EVIOCGRAB` (always in the daemon; tests that replay a
    ///     recorded stream through a FIFO turn it off, a FIFO cannot be grabbed).
    ///   - floodGuard: rate-limits the log lines of refused wedge entries (the sink applies it to cards and keys).
    ///   - sink: receives every key or card, from the reader's thread.
    public init(door: String, devicePath: String, role: Role, exclusive: Bool = true, backoff: ReaderBackoff = ReaderBackoff(),
                floodGuard: ReaderFloodGuard? = nil, logger: Logger, sink: @escaping ReaderSink) {
        self.floodGuard = floodGuard
        self.door = door
        self.devicePath = devicePath
        self.role = role
        self.exclusive = exclusive
        self.backoff = backoff
        var logger = logger
        logger[metadataKey: "door.id"] = "\(door)"
        logger[metadataKey: "reader.device"] = "\(devicePath)"
        self.logger = logger
        self.sink = sink
        thread = ServiceThread(name: "optgate.evdev")
    }

    public func run() async throws {
        await thread.run { [self] stopping in loop(stopping) }
        logger.info("evdev reader stopped")
    }

    private func loop(_ stopping: Locked<Bool>) {
        var wedge: WedgeEntry<EventInstant>? = if case .wedge(let rules) = role { WedgeEntry(rules: rules) } else { nil }
        let reconnect = ReconnectLoop(backoff: backoff, logger: logger, messages: .init(
            unavailable: "reader device unavailable; retrying until it appears",
            opened: "reader device opened",
            back: "reader device is back",
            reopenedWhileFlapping: "reader device reopened",
            lost: "reader device lost; reopening when it returns",
            openedMetadata: ["reader.role": "\(role.name)", "reader.exclusive": "\(exclusive)"]))
        reconnect.run(stopping, open: open, use: { fd in read(fd, wedge: &wedge, stopping: stopping) }, close: { close($0) })
    }

    /// Opens and (when exclusive) grabs the node.
    private func open() throws(ReaderError) -> Int32 {
        let fd = Glibc.open(devicePath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw ReaderError.cannotOpen(devicePath, errno: errno) }
        if exclusive, gate_evdev_grab(fd, 1) != 0 {
            let code = errno
            close(fd)
            throw ReaderError.cannotGrab(devicePath, errno: code)
        }
        return fd
    }

    /// Reads events until stopping (returns `nil`) or the device goes away (returns why).
    private func read(_ fd: Int32, wedge: inout WedgeEntry<EventInstant>?, stopping: Locked<Bool>) -> ReaderError? {
        var buffer = [UInt8](repeating: 0, count: InputEvent.size * 64)
        var pending = 0
        while !stopping.value {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 200)
            if ready < 0 {
                if errno == EINTR { continue }
                return .readFailed(devicePath, errno: errno)
            }
            if ready == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + pending, $0.count - pending) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .readFailed(devicePath, errno: errno)
            }
            if count == 0 {
                // evdev never ends; a FIFO whose writer left does. Either way the source is gone.
                return .ended(devicePath)
            }
            pending += count
            let consumed = buffer.withUnsafeBytes { bytes in
                let (events, consumed) = InputEvent.decode(UnsafeRawBufferPointer(rebasing: bytes[..<pending]))
                for event in events where event.isKeyPress { handle(event, wedge: &wedge) }
                return consumed
            }
            buffer.replaceSubrange(0..<consumed, with: [])
            buffer.append(contentsOf: [UInt8](repeating: 0, count: consumed))
            pending -= consumed
        }
        return nil
    }

    private func handle(_ event: InputEvent, wedge: inout WedgeEntry<EventInstant>?) {
        switch role {
        case .keypad:
            guard let key = EvdevKeys.keypadKey(event.code) else { return }
            sink(.key(door: door, key, keypad: devicePath))
        case .wedge:
            guard let key = EvdevKeys.wedgeKey(event.code) else { return }
            switch wedge?.key(key, at: event.instant) {
            case .card(let hex):
                guard let uid = CardUID(hex) else { return }
                logger.debug("wedge reader read a card")
                sink(.card(door: door, uid: uid))
            case .rejected(let reason):
                if floodGuard?.admitMalformed() ?? true {
                    logger.notice("wedge reader entry refused", metadata: ["reason": "\(reason)"])
                }
            case .none?, nil:
                break
            }
        }
    }
}

extension EvdevReader.Role {
    var name: String {
        switch self {
        case .keypad: "keypad"
        case .wedge: "wedge"
        }
    }
}
