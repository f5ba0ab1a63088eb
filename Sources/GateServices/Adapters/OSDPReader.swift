import CSerial
import Foundation
public import GateConfiguration
public import GateCore
import GateStore
public import Logging
import OSDP
public import ServiceLifecycle

/// OSDP v2 readers on one serial line (RS-485), as their control panel (docs/readers.md#osdp).
///
/// On a dedicated thread: opens the tty raw (termios, `CSerial`), then drives every reader on the line in
/// turn — half duplex, one command out and its reply (or the timeout) before the next. Each reader's link
/// (`OSDP.OSDPLink`) identifies it, checks its capabilities, and brings up the secure channel with the
/// reader's own SCBK before anything it sends is believed; then polls it. Cards and keypad keys go to the
/// door like any reader's; the door's decisions come back as LED and buzzer feedback.
///
/// Alarms (`readerOffline`, `readerTamper`) go through the decision loop into events and `status`. A
/// reader that claims no secure channel although one is required, or answers with another key, is
/// refused and raises `readerTamper`; the link is retried, never opened without the secure channel.
public final class OSDPReader: Service, Sendable {
    public struct Member: Sendable {
        public var door: String
        public var settings: OSDPReaderSettings
        /// The reader's SCBK; `nil` for an insecure reader, or when it was never paired (refused).
        public var key: [UInt8]?
        public var keyProblem: String?

        public init(door: String, settings: OSDPReaderSettings, key: [UInt8]?, keyProblem: String? = nil) {
            self.door = door
            self.settings = settings
            self.key = key
            self.keyProblem = keyProblem
        }
    }

    public let device: String
    let baud: Int
    let members: [Member]
    let logger: Logger
    let sink: ReaderSink
    let floodGuard: ReaderFloodGuard?
    let backoff: ReaderBackoff
    private let feedback = Locked<[UInt8: [OSDPCommand]]>([:])
    /// Command → reply round trips of the last 4096 exchanges (logged when the line stops; scripts/bench).
    private let roundTrips = Locked<[Duration]>([])
    /// The refusal last logged per address: a refused reader is retried every few seconds, logged once per change.
    private let refusals = Locked<[UInt8: OSDPRefusal]>([:])
    private let thread: ServiceThread

    public init(device: String, members: [Member], backoff: ReaderBackoff = ReaderBackoff(), floodGuard: ReaderFloodGuard? = nil,
                logger: Logger, sink: @escaping ReaderSink) {
        self.device = device
        baud = members.first?.settings.baud ?? 9600
        self.members = members
        self.backoff = backoff
        self.floodGuard = floodGuard
        var logger = logger
        logger[metadataKey: "reader.device"] = "\(device)"
        self.logger = logger
        self.sink = sink
        thread = ServiceThread(name: "optgate.osdp")
    }

    /// The name a reader has in audit entries and `status`.
    func name(_ member: Member) -> String { "osdp \(device)#\(member.settings.address)" }

    /// Grant/deny feedback for the readers of `door`: green LED and one beep, or red LED and two beeps.
    public func decided(door: String, decision: AccessDecision) {
        let granted = decision.result == .granted
        let commands: [OSDPCommand] = [
            .led(OSDPLED(color: granted ? .green : .red, duration: granted ? 20 : 10)),
            .buzzer(OSDPBuzzer(on: granted ? 2 : 1, off: 1, count: granted ? 1 : 2)),
        ]
        feedback.withLockedValue { queues in
            for member in members where member.door == door {
                queues[member.settings.address, default: []] += commands
            }
        }
    }

    public func run() async throws {
        await thread.run { [self] stopping in loop(stopping) }
        let trips = roundTrips.value.sorted()
        func milliseconds(_ fraction: Double) -> String {
            guard !trips.isEmpty else { return "-" }
            let trip = trips[min(trips.count - 1, Int(Double(trips.count) * fraction))]
            return String(format: "%.2f", Double(trip.components.attoseconds) / 1e15 + Double(trip.components.seconds) * 1000)
        }
        logger.info("OSDP line stopped", metadata: [
            "osdp.exchanges": "\(trips.count)", "osdp.rtt.p50.ms": "\(milliseconds(0.5))", "osdp.rtt.p95.ms": "\(milliseconds(0.95))",
            "osdp.rtt.max.ms": "\(milliseconds(1))",
        ])
    }

    private func loop(_ stopping: Locked<Bool>) {
        let clock = ContinuousClock()
        var links: [OSDPLink<ContinuousClock.Instant>?] = members.map { member in
            let timing = OSDPTiming(pollInterval: member.settings.pollInterval, offlineTimeout: member.settings.offlineTimeout)
            let security: OSDPPeripheral.Security
            if member.settings.insecure {
                security = .insecure
            } else if let key = member.key {
                security = .secure(scbk: key)
            } else {
                return nil
            }
            return OSDPLink(peripheral: OSDPPeripheral(address: member.settings.address, security: security), timing: timing, now: clock.now)
        }
        for (member, link) in zip(members, links) where link == nil {
            let problem = member.keyProblem ?? "the reader has no secure-channel key yet: run `optgate reader pair`"
            logger.error("OSDP reader refused: no key", metadata: ["reader.address": "\(member.settings.address)", "error": "\(problem)"])
            sink(.readerAlarm(door: member.door, reader: name(member), alarm: .readerOffline, active: true, problem: problem))
        }
        for member in members where member.settings.insecure {
            logger.warning("OSDP reader runs without the secure channel (insecure: true)",
                           metadata: ["reader.address": "\(member.settings.address)"])
        }
        let reconnect = ReconnectLoop(backoff: backoff, logger: logger, messages: .init(
            unavailable: "OSDP line unavailable; retrying until it opens",
            opened: "OSDP line open",
            back: "OSDP line is back",
            reopenedWhileFlapping: "OSDP line reopened",
            lost: "OSDP line lost; reopening"))
        reconnect.run(stopping, open: { () throws(ReaderError) -> Int32 in
            let fd = gate_serial_open(device, Int32(baud))
            guard fd >= 0 else { throw ReaderError.cannotOpen(device, errno: -fd) }
            return fd
        }, use: { fd in
            drive(fd, links: &links, stopping: stopping, clock: clock)
        }, close: { fd in
            gate_serial_close(fd)
        })
    }

    /// Drives every link on the open line until stopping (`nil`) or the line fails (the error).
    private func drive(_ fd: Int32, links: inout [OSDPLink<ContinuousClock.Instant>?], stopping: Locked<Bool>,
                       clock: ContinuousClock) -> ReaderError? {
        var frames = OSDPFrameReader()
        var buffer = [UInt8](repeating: 0, count: 512)
        func send(_ bytes: [UInt8]) -> ReaderError? {
            let result = gate_serial_write(fd, bytes, Int32(bytes.count))
            return result == 0 ? nil : .readFailed(device, errno: -result)
        }
        while !stopping.value {
            var sent = false
            for index in links.indices {
                guard var link = links[index] else { continue }
                defer { links[index] = link }
                let member = members[index]
                if let queued = feedback.withLockedValue({ $0.removeValue(forKey: member.settings.address) }) {
                    if link.isOnline { queued.forEach { link.enqueue($0) } }
                }
                let (resend, events) = link.tick(at: clock.now)
                handle(events, member: member)
                guard let bytes = resend ?? link.transmit(at: clock.now) else { continue }
                sent = true
                frames.reset()
                if let error = send(bytes) { return error }
                var lastSend = clock.now
                // Half duplex: this reader's reply (or its timeout and retries) before the next reader.
                while link.isAwaitingReply, !stopping.value {
                    let count = gate_serial_read(fd, &buffer, Int32(buffer.count), 10)
                    if count < 0 { return count == -ENODEV ? .ended(device) : .readFailed(device, errno: -count) }
                    if count > 0 {
                        frames.append(buffer[0..<Int(count)])
                        while let result = frames.next() {
                            switch result {
                            case .success(let frame):
                                handle(link.receive(frame, at: clock.now), member: member)
                                if !link.isAwaitingReply {
                                    let trip = lastSend.duration(to: clock.now)
                                    roundTrips.withLockedValue { trips in
                                        if trips.count >= 4096 { trips.removeFirst(1024) }
                                        trips.append(trip)
                                    }
                                }
                            case .failure(let error):
                                handle([.lineError(error.description)], member: member)
                            }
                        }
                    }
                    let (resend, events) = link.tick(at: clock.now)
                    handle(events, member: member)
                    if let resend {
                        frames.reset()
                        if let error = send(resend) { return error }
                        lastSend = clock.now
                    }
                }
            }
            if !sent {
                // Nothing due: wait a little, discarding whatever arrives unasked (noise, a stray PD).
                let count = gate_serial_read(fd, &buffer, Int32(buffer.count), 5)
                if count < 0 { return count == -ENODEV ? .ended(device) : .readFailed(device, errno: -count) }
            }
        }
        return nil
    }

    private func handle(_ events: [OSDPEvent], member: Member) {
        let reader = name(member)
        let door = member.door
        let metadata: Logger.Metadata = ["reader.address": "\(member.settings.address)", "door.id": "\(door)"]
        for event in events {
            switch event {
            case .online(let secure):
                logger.info("OSDP reader online", metadata: metadata.merging(["reader.secure": "\(secure)"]) { $1 })
                refusals.withLockedValue { $0[member.settings.address] = nil }
                sink(.readerAlarm(door: door, reader: reader, alarm: .readerOffline, active: false))
                sink(.readerAlarm(door: door, reader: reader, alarm: .readerTamper, active: false))
            case .offline:
                logger.warning("OSDP reader offline", metadata: metadata)
                sink(.readerAlarm(door: door, reader: reader, alarm: .readerOffline, active: true,
                                  problem: "no valid reply within the offline timeout"))
            case .refused(let refusal):
                let repeated = refusals.withLockedValue { last in
                    defer { last[member.settings.address] = refusal }
                    return last[member.settings.address] == refusal
                }
                if repeated {
                    logger.debug("OSDP reader refused again", metadata: metadata.merging(["error": "\(refusal)"]) { $1 })
                } else {
                    logger.error("OSDP reader refused", metadata: metadata.merging(["error": "\(refusal)"]) { $1 })
                }
                sink(.readerAlarm(door: door, reader: reader, alarm: .readerTamper, active: true, problem: refusal.description))
            case .tamper(let active):
                logger.warning(active ? "OSDP reader tamper" : "OSDP reader tamper cleared", metadata: metadata)
                sink(.readerAlarm(door: door, reader: reader, alarm: .readerTamper, active: active,
                                  problem: active ? "the reader reports its tamper switch" : ""))
            case .card(let bitCount, let format, let bytes):
                switch OSDPCardData.uid(bitCount: bitCount, format: format, bytes: bytes) {
                case .success(let uid):
                    logger.debug("OSDP card read", metadata: metadata)
                    sink(.card(door: door, uid: uid))
                case .failure(let problem):
                    if floodGuard?.admitMalformed() ?? true {
                        logger.notice("OSDP card data refused", metadata: metadata.merging(["error": "\(problem)"]) { $1 })
                    }
                }
            case .keys(let keys):
                for byte in keys {
                    guard let key = OSDPCardData.key(byte) else {
                        logger.notice("OSDP keypad sent an unknown key", metadata: metadata)
                        continue
                    }
                    sink(.key(door: door, key, keypad: reader))
                }
            case .identity(let vendor, let model, let serial):
                logger.info("OSDP reader identified", metadata: metadata.merging([
                    "reader.vendor": "\(String(vendor, radix: 16))", "reader.model": "\(model)", "reader.serial": "\(serial)",
                ]) { $1 })
            case .keySet:
                logger.info("OSDP reader took a new key", metadata: metadata)
            case .lineError(let problem):
                if floodGuard?.admitMalformed() ?? true {
                    logger.notice("OSDP line error", metadata: metadata.merging(["error": "\(problem)"]) { $1 })
                }
            case .nak(let command, let code):
                logger.debug("OSDP command refused by the reader", metadata: metadata.merging([
                    "osdp.command": "\(command)", "osdp.nak": "\(code)",
                ]) { $1 })
            }
        }
    }
}

/// What OSDP card and keypad replies mean at the door.
public enum OSDPCardData {
    /// A card UID from raw card data: Wiegand-format frames of 26/34/37 bits decode like a Wiegand reader's
    /// (`FFFFCCCCCC`, parity checked); whole bytes of 4–10 are the UID as sent (a reader passing on a
    /// card's serial number). Anything else is refused, never guessed.
    public static func uid(bitCount: Int, format: UInt8, bytes: [UInt8]) -> Result<CardUID, OSDPCardProblem> {
        let bits = (0..<bitCount).map { index in bytes[index / 8] & (0x80 >> (index % 8)) != 0 }
        if let wiegand = WiegandFormat.matching(bitCount: bitCount, among: [.h10301, .bits34, .h10304]) {
            switch wiegand.decode(bits) {
            case .card(let card):
                guard let uid = CardUID(card.uidHex) else { return .failure(.unusable(bitCount)) }
                return .success(uid)
            case .rejected(let why):
                return .failure(.wiegand("\(why)"))
            case .key:
                return .failure(.unusable(bitCount))
            }
        }
        guard bitCount % 8 == 0, (4...10).contains(bitCount / 8),
              let uid = CardUID(bytes.prefix(bitCount / 8).map { String(format: "%02X", $0) }.joined())
        else { return .failure(.unusable(bitCount)) }
        return .success(uid)
    }

    /// OSDP keypad data is ASCII digits, with `*` as 0x7F (or `*`) and `#` as 0x0D (or `#`).
    public static func key(_ byte: UInt8) -> KeypadKey? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): .digit(byte - UInt8(ascii: "0"))
        case 0x7F, UInt8(ascii: "*"): .clear
        case 0x0D, UInt8(ascii: "#"): .submit
        default: nil
        }
    }
}

public enum OSDPCardProblem: Error, Sendable, Hashable, CustomStringConvertible {
    case wiegand(String)
    case unusable(Int)

    public var description: String {
        switch self {
        case .wiegand(let why): "a Wiegand-format card frame was rejected (\(why))"
        case .unusable(let bits): "card data of \(bits) bits is neither a known Wiegand format nor a 4–10 byte UID"
        }
    }
}
