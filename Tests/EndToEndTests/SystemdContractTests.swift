import Foundation
import GateControl
import Testing

/// optgated under a service manager: sd_notify readiness, watchdog only while the decision loop
/// progresses, STOPPING on shutdown, and SIGHUP reload.
@Suite(.serialized) struct SystemdContractTests {
    /// A datagram socket standing in for systemd's notify socket.
    final class NotifySocket {
        let path: String
        let fd: Int32

        init() throws {
            path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = unixAddress(path)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw HarnessError("bind \(path) failed") }
            var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit {
            close(fd)
            unlink(path)
        }

        /// Every datagram received during `seconds`.
        func collect(for seconds: Double) -> [String] {
            var messages: [String] = []
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count > 0 { messages.append(String(decoding: buffer[..<count], as: UTF8.self)) }
            }
            return messages
        }

        /// Waits up to `seconds` for a datagram containing `text`. - Returns: the datagrams seen until then.
        func await(_ text: String, within seconds: Double) -> [String] {
            var messages: [String] = []
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let batch = collect(for: 0.1)
                messages += batch
                if batch.contains(where: { $0.contains(text) }) { break }
            }
            return messages
        }
    }

    @Test func readinessWatchdogAndStopping() throws {
        let notify = try NotifySocket()
        let gate = Gate()
        try gate.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"])
        let startup = notify.await("READY=1", within: 5)
        let ready = try #require(startup.first { $0.contains("READY=1") })
        #expect(ready.contains("STATUS=serving main"))

        let healthy = notify.collect(for: 1.5).filter { $0 == "WATCHDOG=1" }.count
        #expect(healthy >= 4, "a 200 ms watchdog interval pings about 7 times in 1.5 s, saw \(healthy)")

        #expect(gate.simulate("stall", "2.5").contains("stalled"))
        _ = notify.collect(for: 0.5)
        let stalled = notify.collect(for: 1.5).filter { $0 == "WATCHDOG=1" }.count
        #expect(stalled == 0, "no watchdog ping while the decision loop is stalled")
        #expect(gate.daemonOutput.contains("decision loop stalled"))

        _ = notify.await("WATCHDOG=1", within: 3)
        #expect(notify.collect(for: 1).contains("WATCHDOG=1"), "pings resume when the loop progresses again")

        gate.daemon?.terminate()
        let shutdown = notify.await("STOPPING=1", within: 5)
        #expect(shutdown.contains { $0.contains("STOPPING=1") })
        #expect(gate.stop() == 0)
    }

    @Test func sighupAppliesANewPulseAndRefusesABadConfiguration() throws {
        let gate = Gate()
        try gate.start(config: #"{"doors": [{"name": "main", "relay": {"pulseSeconds": 10}}]}"#)
        let pid = try #require(gate.daemon?.processIdentifier)
        _ = gate.simulate("rex")
        usleep(1_000_000)
        #expect(try gate.status().doors[0].lock == .unlocked, "the 10 s pulse is running")

        try #"{"doors": [{"name": "main", "relay": {"pulseSeconds": 0.3}}]}"#.write(toFile: gate.configPath, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(gate.eventually(within: 3) { gate.daemonOutput.contains("configuration reloaded") })
        _ = gate.simulate("rex")
        #expect(gate.eventually(within: 1.5) { (try? gate.status().doors[0].lock) == .locked },
                "the new 0.3 s pulse applies without a restart")

        try #"{"doors": [{"name": "main", "relay": {"pulseSeconds": 99}}]}"#.write(toFile: gate.configPath, atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(gate.eventually(within: 3) { gate.daemonOutput.contains("configuration reload refused") })
        #expect(gate.daemonOutput.contains("pulseSeconds: 99 is out of range"))
        #expect(gate.daemon?.isRunning == true)
        _ = gate.simulate("rex")
        #expect(gate.eventually(within: 1.5) { (try? gate.status().doors[0].lock) == .locked }, "the old (0.3 s) configuration still runs")
    }
}
