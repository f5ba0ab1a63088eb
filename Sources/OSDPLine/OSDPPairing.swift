import CSerial
import Foundation
import OSDP

/// `optgate reader pair`: gives one OSDP reader its own random SCBK. The reader must be in install mode
/// (it accepts the well-known SCBK-D only then); the secure channel is opened with SCBK-D, the new key is
/// sent with KEYSET inside it, and the channel is opened again with the new key to prove it took. Only
/// then is the key stored (`OSDPKeyStore`). Install mode is used for nothing else.
public enum OSDPPairing {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// - Returns: the new key, already verified by a second handshake.
    public static func pair(device: String, address: UInt8, baud: Int = 9600, timeout: Duration = .seconds(10),
                            progress: (String) -> Void = { _ in }) throws -> [UInt8] {
        let fd = gate_serial_open(device, Int32(baud))
        guard fd != -EBUSY else { throw Failure(description: busy(device)) }
        guard fd >= 0 else { throw Failure(description: "cannot open \(device): \(String(cString: strerror(-fd)))") }
        defer { gate_serial_close(fd) }
        let key = OSDPKeyStore.randomKey()
        let timing = OSDPTiming(offlineTimeout: timeout)
        var pairing = OSDPLink(peripheral: OSDPPeripheral(address: address, security: .pairing(newKey: key)), timing: timing,
                               now: ContinuousClock.now)
        let paired = try exchange(fd, link: &pairing, timeout: timeout) { event in
            switch event {
            case .keySet: return true
            case .online: progress("secure channel with the install-mode key (SCBK-D) open; sending the new key")
            case .refused(let refusal):
                throw Failure(description: "\(refusal); is the reader in install mode (factory default or its install jumper)?")
            default: break
            }
            return false
        }
        guard paired else { throw Failure(description: "the reader did not take the new key within \(timeout)") }
        progress("the reader took the new key; checking it")
        var check = OSDPLink(peripheral: OSDPPeripheral(address: address, security: .secure(scbk: key)), timing: timing,
                             now: ContinuousClock.now)
        let verified = try exchange(fd, link: &check, timeout: timeout) { event in
            if case .online(true) = event { return true }
            if case .refused(let refusal) = event { throw Failure(description: "the new key does not work: \(refusal)") }
            return false
        }
        guard verified else { throw Failure(description: "the secure channel with the new key did not open within \(timeout)") }
        return key
    }

    /// Why pairing needs the line to itself, and what to do. optgated polls every reader on its bus several
    /// times a second and owns the line while it runs; a pairing exchange interleaved with its polls would be
    /// garbled on the half-duplex bus, and handing the line over through the control socket would put the
    /// bus's other readers offline for the pairing anyway (and let a socket client put a reader into the
    /// install-mode exchange), so pairing is an installer's step with the daemon stopped.
    static func busy(_ device: String) -> String {
        "\(device) is in use, most likely by optgated, which owns the serial line while it runs: stop it "
            + "(`systemctl stop optgated`), run `optgate reader pair` again, then start it (`systemctl start optgated`)"
    }

    /// Drives one link until `done` says so or the time is up.
    static func exchange(_ fd: Int32, link: inout OSDPLink<ContinuousClock.Instant>, timeout: Duration,
                         done: (OSDPEvent) throws -> Bool) throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var frames = OSDPFrameReader()
        var buffer = [UInt8](repeating: 0, count: 512)
        func handle(_ events: [OSDPEvent]) throws -> Bool {
            for event in events where try done(event) { return true }
            return false
        }
        while clock.now < deadline {
            let (resend, events) = link.tick(at: clock.now)
            if try handle(events) { return true }
            if let bytes = resend ?? link.transmit(at: clock.now) {
                frames.reset()
                guard gate_serial_write(fd, bytes, Int32(bytes.count)) == 0 else { throw Failure(description: "writing to the line failed") }
            }
            let count = gate_serial_read(fd, &buffer, Int32(buffer.count), 10)
            if count < 0 { throw Failure(description: "reading the line failed: \(String(cString: strerror(-count)))") }
            frames.append(buffer[0..<Int(count)])
            while let result = frames.next() {
                if case .success(let frame) = result, try handle(link.receive(frame, at: clock.now)) { return true }
            }
        }
        return false
    }
}
