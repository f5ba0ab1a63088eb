import CSerial
import Foundation
import Glibc
import OSDPLine
import Testing

/// One owner per OSDP line: optgated holds its serial line with an exclusive flock while it runs, so
/// `optgate reader pair` on the same line fails at once and says what to do, instead of interleaving its
/// install-mode exchange with the daemon's polls on the half-duplex bus.
@Suite struct SerialLineOwnerTests {
    /// A pty pair; the follower's path stands in for an RS-485 adapter's tty. Through /dev/ptmx and its
    /// ioctls (Glibc's module does not import posix_openpt/grantpt/ptsname): TIOCSPTLCK = _IOW('T', 0x31, int),
    /// TIOCGPTN = _IOR('T', 0x30, unsigned int), the same on x86_64 and arm64.
    static func pty() throws -> (leader: Int32, path: String) {
        let leader = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard leader >= 0, ioctl(leader, 0x4004_5431, &unlock) == 0, ioctl(leader, 0x8004_5430, &number) == 0 else {
            throw PtyError()
        }
        return (leader, "/dev/pts/\(number)")
    }

    struct PtyError: Error {}

    @Test func aSecondOpenOfAHeldLineIsBusyAndPairingSaysToStopTheDaemon() throws {
        let (leader, path) = try Self.pty()
        defer { close(leader) }
        let owner = gate_serial_open(path, 9600)  // as optgated's OSDP reader opens it
        try #require(owner >= 0, "the line opens: \(owner)")
        #expect(gate_serial_open(path, 9600) == -EBUSY, "a second owner is refused while the first holds the line")

        let started = ContinuousClock.now
        var message = ""
        do {
            _ = try OSDPPairing.pair(device: path, address: 1, timeout: .seconds(5))
        } catch {
            message = "\(error)"
        }
        #expect(message.contains("in use, most likely by optgated"), "\(message)")
        #expect(message.contains("systemctl stop optgated") && message.contains("optgate reader pair"), "says what to do: \(message)")
        #expect(ContinuousClock.now - started < .seconds(2), "fails at once, without waiting for the reader")

        gate_serial_close(owner)
        let again = gate_serial_open(path, 9600)
        #expect(again >= 0, "released when its owner closes it: \(again)")
        if again >= 0 { gate_serial_close(again) }
    }
}
