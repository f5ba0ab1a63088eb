/// How one reader on the bus is to be driven.
public struct OSDPPeripheral: Sendable, Hashable {
    public enum Security: Sendable, Hashable {
        /// The secure channel with this reader's own SCBK (16 bytes), required: the normal case.
        case secure(scbk: [UInt8])
        /// Install mode: SCBK-D, only to set `newKey` with KEYSET (`optgate reader pair`), never to read cards.
        case pairing(newKey: [UInt8])
        /// No secure channel (`"insecure": true`): the PD is driven in clear text.
        case insecure
    }

    /// 0…126.
    public var address: UInt8
    public var security: Security

    public init(address: UInt8, security: Security) {
        self.address = address
        self.security = security
    }
}

/// Timing of a bus; every reader on it shares it.
public struct OSDPTiming: Sendable, Hashable {
    /// Gap between polls of an online reader (the spec asks for at least one poll every 200 ms).
    public var pollInterval: Duration
    /// How long to wait for a reply before sending the same command again.
    public var replyTimeout: Duration
    /// Sends of a command after the first before the link is restarted (sequence 0).
    public var retries: Int
    /// No valid reply for this long: the reader is offline (alarm).
    public var offlineTimeout: Duration
    /// After a refused handshake (wrong key, downgrade), wait this long before trying again.
    public var refusedRetry: Duration

    public init(pollInterval: Duration = .milliseconds(100), replyTimeout: Duration = .milliseconds(200), retries: Int = 2,
                offlineTimeout: Duration = .seconds(2), refusedRetry: Duration = .seconds(5)) {
        self.pollInterval = pollInterval
        self.replyTimeout = replyTimeout
        self.retries = retries
        self.offlineTimeout = offlineTimeout
        self.refusedRetry = refusedRetry
    }
}

/// Why a reader's link is not up, as a sentence.
public enum OSDPRefusal: Sendable, Hashable, CustomStringConvertible {
    /// PDCAP claims no secure channel although one is required: a downgrade attack or a swapped reader.
    case downgrade
    /// The PD's cryptogram does not match: it holds another SCBK (or is an impostor).
    case wrongKey
    /// RMAC_I did not verify, or the PD refused our cryptogram.
    case handshakeFailed
    /// A reply in clear text or with a bad MAC while the secure channel was up.
    case unauthenticReply

    public var description: String {
        switch self {
        case .downgrade: "the reader reports no secure channel although one is required (capabilities downgrade)"
        case .wrongKey: "the reader's secure-channel key does not match (wrong SCBK or an impostor)"
        case .handshakeFailed: "the secure-channel handshake failed"
        case .unauthenticReply: "a reply failed secure-channel authentication"
        }
    }
}

/// What a link reports to the reader service.
public enum OSDPEvent: Sendable, Hashable {
    case online(secure: Bool)
    case offline
    case refused(OSDPRefusal)
    case tamper(Bool)
    case card(bitCount: Int, format: UInt8, bytes: [UInt8])
    case keys([UInt8])
    case identity(vendor: UInt32, model: UInt8, serial: UInt32)
    /// The PD acknowledged KEYSET with the new key (pairing done).
    case keySet
    /// A frame that could not be used (bad CRC, bad length, unexpected): counted, never fatal.
    case lineError(String)
    /// A command was answered with NAK (its error code).
    case nak(command: String, code: UInt8)
}

/// The control-panel side of one PD: link bring-up (ID, CAP, secure channel), sequence numbers,
/// retries, polling, supervision and queued output commands. Pure: the caller moves bytes and time.
///
/// ```
/// identify ─PDID─► capabilities ─PDCAP─► challenge ─CCRYPT─► cryptogram ─RMAC_I─► online ─► (POLL …)
///    ▲               │ no SC but required: refused(downgrade)   │ mismatch: refused(wrongKey)
///    └──── timeout after retries / NAK(sequence) / refused + wait ◄───────────────┘
/// ```
public struct OSDPLink<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration, Instant: Sendable {
    public enum Phase: Sendable, Hashable {
        case identify, capabilities, challenge, cryptogram, online, setKey
        /// Waiting until the instant before starting over.
        case refused(OSDPRefusal)
    }

    public let peripheral: OSDPPeripheral
    public let timing: OSDPTiming
    public private(set) var phase: Phase = .identify
    public private(set) var isOnline = false
    public private(set) var isSecure = false
    private var sequence: UInt8 = 0
    private var session: OSDPSecureSession?
    private var pdRandom: [UInt8] = []
    private var pending: (command: OSDPCommand, bytes: [UInt8], sentAt: Instant, attempts: Int)?
    private var lastValidReply: Instant
    private var nextSend: Instant
    private var queue: [OSDPCommand] = []
    private var announcedOffline = false
    private var tamper: Bool?
    private var statusAsked = false
    private let random: @Sendable () -> [UInt8]

    /// - Parameter random: 8 random bytes per call (RND.A); injected for tests.
    public init(peripheral: OSDPPeripheral, timing: OSDPTiming, now: Instant,
                random: @escaping @Sendable () -> [UInt8] = { (0..<8).map { _ in UInt8.random(in: 0...255) } }) {
        self.peripheral = peripheral
        self.timing = timing
        self.random = random
        lastValidReply = now
        nextSend = now
    }

    /// Whether a command is out and its reply awaited.
    public var isAwaitingReply: Bool { pending != nil }

    /// Queues an output command (LED, buzzer) for when the link is online; a few at most.
    public mutating func enqueue(_ command: OSDPCommand) {
        guard queue.count < 8 else { return }
        queue.append(command)
    }

    /// When `transmit` or `tick` next has something to do.
    public var nextDeadline: Instant {
        if let pending { return pending.sentAt.advanced(by: timing.replyTimeout) }
        return nextSend
    }

    /// The bytes to send now, if it is time (nothing awaited, the poll or retry is due).
    public mutating func transmit(at now: Instant) -> [UInt8]? {
        guard pending == nil, now >= nextSend else { return nil }
        let command: OSDPCommand
        switch phase {
        case .identify: command = .id
        case .capabilities: command = .capabilities
        case .challenge:
            let cpRandom = random()
            let key: [UInt8]
            switch peripheral.security {
            case .secure(let scbk): key = scbk
            case .pairing: key = OSDPSecureSession.defaultKey
            case .insecure: key = OSDPSecureSession.defaultKey  // never reached: insecure skips the handshake
            }
            session = OSDPSecureSession(scbk: key, cpRandom: cpRandom)
            command = .challenge(cpRandom: cpRandom)
        case .cryptogram:
            guard let session else { restart(at: now); return nil }
            command = .serverCryptogram(session.serverCryptogram(pdRandom: pdRandom))
        case .setKey:
            guard case .pairing(let newKey) = peripheral.security else { restart(at: now); return nil }
            command = .keyset(newKey)
        case .online:
            if !statusAsked {
                statusAsked = true
                command = .localStatus
            } else if !queue.isEmpty {
                command = queue.removeFirst()
            } else {
                command = .poll
            }
        case .refused:
            restart(at: now)
            command = .id
        }
        let bytes = frame(for: command)
        pending = (command, bytes, now, 0)
        return bytes
    }

    private mutating func frame(for command: OSDPCommand) -> [UInt8] {
        var frame = OSDPFrame(address: peripheral.address, isReply: false, sequence: sequence, code: command.code, data: command.data)
        let keySelector: UInt8 = if case .pairing = peripheral.security { 0 } else { 1 }
        switch command {
        case .challenge: frame.securityBlock = [0x03, 0x11, keySelector]
        case .serverCryptogram: frame.securityBlock = [0x03, 0x13, keySelector]
        default:
            if isSecure, var session {
                frame = session.seal(frame)
                self.session = session
            }
        }
        return frame.encoded()
    }

    /// Called when the reply timeout passed: resend, or after the retries restart the link.
    /// Also raises `offline` when no valid reply came for the offline timeout.
    public mutating func tick(at now: Instant) -> (resend: [UInt8]?, events: [OSDPEvent]) {
        var events: [OSDPEvent] = []
        if !announcedOffline, lastValidReply.duration(to: now) >= timing.offlineTimeout {
            announcedOffline = true
            if isOnline || !isRefused { events.append(.offline) }
            isOnline = false
            isSecure = false
        }
        guard let current = pending, current.sentAt.duration(to: now) >= timing.replyTimeout else { return (nil, events) }
        if current.attempts < timing.retries {
            pending = (current.command, current.bytes, now, current.attempts + 1)
            return (current.bytes, events)
        }
        pending = nil
        restart(at: now)
        return (nil, events)
    }

    private var isRefused: Bool { if case .refused = phase { true } else { false } }

    /// Starts over from ID with sequence 0 (the PD drops its secure channel on sequence 0).
    private mutating func restart(at now: Instant, after delay: Duration = .zero) {
        phase = .identify
        sequence = 0
        session = nil
        isSecure = false
        statusAsked = false
        pending = nil
        nextSend = now.advanced(by: delay)
    }

    /// Handles one frame from the line. Frames for other addresses are ignored (another reader on the bus).
    public mutating func receive(_ frame: OSDPFrame, at now: Instant) -> [OSDPEvent] {
        guard frame.isReply, frame.address == peripheral.address, let current = pending else { return [] }
        guard frame.sequence == sequence else {
            return [.lineError("a reply carried sequence \(frame.sequence), expected \(sequence)")]
        }
        var frame = frame
        if isSecure, phase == .setKey, frame.mac == nil, frame.code == OSDPReplyCode.ack.rawValue {
            // A PD may drop the old session as soon as it takes the new key and acknowledge in clear text.
        } else if isSecure {
            guard var session, let opened = session.open(frame) else {
                return refuse(.unauthenticReply, at: now)
            }
            self.session = session
            frame = opened
        } else if frame.mac != nil, phase != .online {
            return [.lineError("a secured reply arrived before the secure channel")]
        }
        pending = nil
        let reply = OSDPReply(code: frame.code, data: frame.data)
        if case .busy = reply {
            // Same command, same sequence, a little later.
            nextSend = now.advanced(by: timing.pollInterval)
            return []
        }
        if case .nak(let code) = reply, code == 4 {
            // Sequence error: the PD lost track (restarted); start over.
            restart(at: now)
            return [.nak(command: current.command.name, code: code)]
        }
        lastValidReply = now
        sequence = sequence == 3 ? 1 : sequence + 1
        nextSend = phase == .online ? now.advanced(by: timing.pollInterval) : now
        var events: [OSDPEvent] = []
        switch (phase, reply) {
        case (.identify, .identity(let vendor, let model, _, let serial, _)):
            events.append(.identity(vendor: vendor, model: model, serial: serial))
            phase = .capabilities
        case (.capabilities, .capabilities(let capabilities)):
            let secureCapable = capabilities.contains { $0.function == OSDPCapability.communicationSecurity && $0.compliance & 1 != 0 }
            switch peripheral.security {
            case .insecure:
                events += goOnline(secure: false)
            case .secure, .pairing:
                guard secureCapable else { return refuse(.downgrade, at: now) }
                phase = .challenge
            }
        case (.challenge, .clientCryptogram(_, let random, let cryptogram)):
            guard let session, session.acceptsClientCryptogram(cryptogram, pdRandom: random) else {
                return refuse(.wrongKey, at: now)
            }
            pdRandom = random
            phase = .cryptogram
        case (.cryptogram, .initialReplyMAC(let rmac)):
            guard var session, frame.securityBlock?.count == 3, frame.securityBlock?[2] == 0x01,
                  session.establish(rmacI: rmac, pdRandom: pdRandom) else {
                return refuse(.handshakeFailed, at: now)
            }
            self.session = session
            isSecure = true
            if case .pairing = peripheral.security {
                phase = .setKey
                isOnline = true
                announcedOffline = false
            } else {
                events += goOnline(secure: true)
            }
        case (.setKey, .ack):
            events.append(.keySet)
            restart(at: now, after: timing.refusedRetry)
        case (.online, _):
            events += online(reply, for: current.command)
        case (_, .nak(let code)):
            events.append(.nak(command: current.command.name, code: code))
            if phase == .challenge || phase == .cryptogram {
                return events + refuse(.handshakeFailed, at: now)
            }
            restart(at: now, after: timing.replyTimeout)
        default:
            events.append(.lineError("unexpected reply 0x\(String(frame.code, radix: 16)) to \(current.command.name)"))
            restart(at: now, after: timing.replyTimeout)
        }
        return events
    }

    private mutating func goOnline(secure: Bool) -> [OSDPEvent] {
        phase = .online
        isSecure = secure
        isOnline = true
        announcedOffline = false
        return [.online(secure: secure)]
    }

    private mutating func refuse(_ refusal: OSDPRefusal, at now: Instant) -> [OSDPEvent] {
        let wasOnline = isOnline
        restart(at: now, after: timing.refusedRetry)
        phase = .refused(refusal)
        isOnline = false
        return wasOnline ? [.offline, .refused(refusal)] : [.refused(refusal)]
    }

    private mutating func online(_ reply: OSDPReply, for command: OSDPCommand) -> [OSDPEvent] {
        switch reply {
        case .ack, .inputStatus, .identity, .capabilities:
            return []
        case .nak(let code):
            return [.nak(command: command.name, code: code)]
        case .localStatus(let tamper, _):
            guard tamper != self.tamper else { return [] }
            let first = self.tamper == nil
            self.tamper = tamper
            return first && !tamper ? [] : [.tamper(tamper)]
        case .card(_, let format, let bits, let bytes):
            return [.card(bitCount: bits, format: format, bytes: bytes)]
        case .keypad(_, let keys):
            return [.keys(keys)]
        case .malformed(let code):
            return [.lineError("a malformed reply 0x\(String(code, radix: 16)) to \(command.name)")]
        case .unknown(let code):
            return [.lineError("an unknown reply 0x\(String(code, radix: 16)) to \(command.name)")]
        case .busy, .clientCryptogram, .initialReplyMAC:
            return [.lineError("an out-of-order reply to \(command.name)")]
        }
    }
}
