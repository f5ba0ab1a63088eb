import Foundation
import Glibc
import GateConfiguration
import GateCore
import GateServices
import GateStore
import Testing

/// The Wiegand reader on real GPIO lines: gpio-sim lines 12 (D0) and 13 (D1) pulled like a reader's
/// open-collector outputs by `wiegand_sender` (TestSupport/fakes/wiegand_sender.c), read back through
/// libgpiod edge events with kernel timestamps. Part of the QEMU stage (TestSupport/vm/guest-tests.sh sets
/// GATE_WIEGAND_SENDER); skipped without gpio-sim and the sender. Under QEMU's TCG a writer can stall for
/// longer than a frame gap; the sender (SCHED_FIFO, mlocked, pull files open, each edge confirmed delivered
/// by the kernel before the next) measures its own edge intervals and sends a frame again only when it
/// overran its budget (half the gap), so the test itself never presents a frame twice. The reader's frame gap here is 100 ms (the top of the configured range;
/// the default is 25 ms): the sender's budget is then 50 ms, wide enough for TCG's usual stalls.
/// On a KVM guest or a board with gpio-sim:
///     GATE_WIEGAND_SENDER=.build/fakes/wiegand_sender GATE_GPIO_CHIP=gpiochip0 \
///       GATE_SIM_SYSFS=/sys/devices/platform/gpio-sim.0/gpiochip0 swift test --skip-build --filter WiegandGPIOTests
@Suite(.serialized) struct WiegandGPIOTests {
    static let sender = ProcessInfo.processInfo.environment["GATE_WIEGAND_SENDER"]
    static let chip = sender == nil ? nil : DeviceTests.chip
    static let sim = DeviceTests.sim
    static let d0 = 12, d1 = 13  // 10 is WedgeReaderTests' relay
    /// The reader's frame gap in these tests (ms); the sender's budget is half of it.
    static let gapMilliseconds = 100

    func pull(_ line: Int, up: Bool) throws {
        try (up ? "pull-up" : "pull-down").write(toFile: "\(Self.sim!)/sim_gpio\(line)/pull", atomically: false, encoding: .utf8)
    }

    /// Sends `frames` as a reader does (a falling edge on D0 for 0, on D1 for 1, ≥ 1 ms apart; twice the gap
    /// of silence after each frame) through `wiegand_sender`. Returns how many times the sender overran its
    /// own timing budget (each time it sent that frame again after the gap); throws when a frame never
    /// made it within budget in five attempts.
    @discardableResult
    func send(_ frames: [Bool]...) throws -> Int { try send(frames) }

    @discardableResult
    func send(_ frames: [[Bool]]) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.sender!)
        process.arguments = [Self.sim!, "\(Self.d0)", "\(Self.d1)", "-g", "\(Self.gapMilliseconds)"]
            + frames.map { String($0.map { $0 ? "1" : "0" }) }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let overruns = printed.split(separator: "\n").filter { $0.contains("sent again") }.count
        if overruns > 0 { print("wiegand_sender overran its budget:\n\(printed)") }
        guard process.terminationStatus == 0 else {
            throw DeviceTestError("wiegand_sender exited \(process.terminationStatus): \(printed)")
        }
        return overruns
    }

    static func bits(_ value: UInt64, count: Int) -> [Bool] { (0..<count).map { value >> UInt64(count - 1 - $0) & 1 == 1 } }

    /// An H10301 frame: even parity over the first 12 data bits, odd over the last 12.
    static func h10301(facility: UInt64, card: UInt64) -> [Bool] {
        let data = bits(facility, count: 8) + bits(card, count: 16)
        let even = data[0..<12].filter { $0 }.count % 2 == 1
        let odd = data[12..<24].filter { $0 }.count % 2 == 0
        return [even] + data + [odd]
    }

    /// A 34-bit frame: even parity over the first 16 data bits, odd over the last 16.
    static func bits34(facility: UInt64, card: UInt64) -> [Bool] {
        let data = bits(facility, count: 16) + bits(card, count: 16)
        let even = data[0..<16].filter { $0 }.count % 2 == 1
        let odd = data[16..<32].filter { $0 }.count % 2 == 0
        return [even] + data + [odd]
    }

    /// An 8-bit keypad frame: complement nibble, then the key (10 = `*`, 11 = `#`).
    static func key8(_ key: UInt64) -> [Bool] { bits((~key & 0xF) << 4 | key, count: 8) }

    @Test(.enabled(if: chip != nil && sim != nil, "set GATE_WIEGAND_SENDER, GATE_GPIO_CHIP and GATE_SIM_SYSFS (gpio-sim) to run"))
    func framesOnGPIOLinesBecomeCardsAndKeysAndBadFramesNothing() async throws {
        try pull(Self.d0, up: true)
        try pull(Self.d1, up: true)
        let config = try DaemonConfiguration(json: Data("""
            {"readers": [{"door": "main", "kind": "wiegand", "chip": "\(Self.chip!)", "d0": \(Self.d0), "d1": \(Self.d1),
                          "frameGapMilliseconds": \(Self.gapMilliseconds), "minimumBitIntervalMicroseconds": 20}]}
            """.utf8))
        let recorded = WiegandRecorded()
        let log = RecordingLog()
        let reader = WiegandGPIOReader(door: "main", settings: config.readers[0].wiegand, logger: log.logger) { recorded.append($0) }
        let task = Task { try await reader.run() }
        defer { task.cancel() }
        #expect(await eventuallyLogged(log, "Wiegand reader lines requested"))
        try await Task.sleep(for: .milliseconds(100))

        try send(Self.h10301(facility: 18, card: 12345))
        #expect(await recorded.eventually(seconds: 10) { $0.contains("card 0012003039") },
                "26-bit card → FFFFCCCCCC; got \(recorded.inputs), log \(log.messages.suffix(5))")
        try send(Self.bits34(facility: 513, card: 4660))
        #expect(await recorded.eventually(seconds: 10) { $0.contains("card 0201001234") }, "34-bit card: \(recorded.inputs)")
        for (key, name) in [(UInt64(2), "key 2"), (4, "key 4"), (11, "key #")] {
            try send(Self.key8(key))
            #expect(await recorded.eventually(seconds: 10) { $0.last == name }, "an 8-bit keypad frame: \(name); got \(recorded.inputs)")
        }
        #expect(!recorded.inputs.contains { $0 != "card 0012003039" && $0 != "card 0201001234" && !$0.hasPrefix("key ") },
                "nothing but the cards and keys sent: \(recorded.inputs)")
        var broken = Self.h10301(facility: 18, card: 12345)
        broken[5].toggle()
        let before = recorded.inputs.count
        try send(broken, Array(Self.h10301(facility: 18, card: 12345).prefix(25)))
        #expect(await eventuallyLogged(log, "Wiegand frame refused"))
        try await Task.sleep(for: .milliseconds(200))
        #expect(recorded.inputs.count == before, "a bad-parity or truncated frame is never a credential")
        task.cancel()
        _ = try? await task.value
    }

    /// The real optgated with a GPIO door (relay on gpio-sim line 14) and a wiegand reader on lines 12/13:
    /// an enrolled 26-bit card and a PIN from an 8-bit keypad burst open the door; an unknown 34-bit card
    /// and a bad-parity frame do not.
    @Test(.enabled(if: chip != nil && sim != nil, "set GATE_WIEGAND_SENDER, GATE_GPIO_CHIP and GATE_SIM_SYSFS (gpio-sim) to run"),
          .timeLimit(.minutes(5)))
    func theDaemonOpensTheGPIODoorForAnEnrolledWiegandCardAndPinOnly() throws {
        try pull(Self.d0, up: true)
        try pull(Self.d1, up: true)
        let relay = GPIOSimLine(chip: Self.chip!, sysfs: Self.sim!, line: 14)
        let daemon = try WedgeTestDaemon()
        defer { daemon.stop() }
        let resident = try daemon.addResident(card: "0012003039", pin: "246813")
        try daemon.start(simulated: false, config: #"""
            {"doors": [{"name": "main", "methods": ["card", "pin"], "relay": {"pulseSeconds": 2},
                        "gpio": {"chip": "\#(Self.chip!)", "relayLine": 14}}],
             "keypad": {"mode": "pin"},
             "readers": [{"door": "main", "kind": "wiegand", "chip": "\#(Self.chip!)", "d0": \#(Self.d0), "d1": \#(Self.d1),
                          "frameGapMilliseconds": \#(Self.gapMilliseconds), "minimumBitIntervalMicroseconds": 20}]}
            """#)
        try #require(daemon.waitForLog("Wiegand reader lines requested", seconds: 60), "the daemon requested the lines: \(daemon.log)")
        usleep(300_000)
        #expect(relay.value == "0", "the relay starts de-energised")

        try send(Self.h10301(facility: 18, card: 12345))
        #expect(relay.becomes("1", within: 15), "the enrolled 26-bit card energises the door relay: \(daemon.log.suffix(2500))")
        #expect(daemon.eventually(seconds: 30) { $0.contains { $0.method == "card" && $0.result == "granted" && $0.resident == resident } })
        #expect(relay.becomes("0", within: 30), "the pulse ends")

        try send(Self.bits34(facility: 513, card: 4660))
        let denied = daemon.eventually(seconds: 15) { $0.contains { $0.method == "card" && $0.reason == "unknownCard" } }
        #expect(denied, "an unknown 34-bit card is denied")
        #expect(relay.value == "0")

        var broken = Self.h10301(facility: 18, card: 12345)
        broken[5].toggle()
        let cardsBefore = daemon.cardEvents
        try send(broken)
        #expect(daemon.waitForLog("Wiegand frame refused", seconds: 30), "the bad-parity frame is a reader error")
        usleep(500_000)
        #expect(relay.value == "0", "a bad-parity frame opens nothing")
        #expect(daemon.cardEvents == cardsBefore, "and is no card")

        // The PIN as a keypad sends it: one 8-bit frame per key. A frame the sender had to send again may have
        // reached the reader in pieces (a piece of 4 or 8 bits can be a key), so after an overrun the entry is
        // cleared with `*` and the whole PIN sent again. It starts with `*` for the same reason: an overrun
        // while a card was sent above may have left a key in the entry.
        let burst = [10, 2, 4, 6, 8, 1, 3, 11].map { Self.key8(UInt64($0)) }
        for _ in 0..<3 {
            if try send(burst) == 0 { break }
        }
        #expect(relay.becomes("1", within: 60), "the PIN from the 8-bit keypad burst opens the door")
        #expect(daemon.eventually(seconds: 30) { $0.contains { $0.method == "pin" && $0.result == "granted" && $0.resident == resident } })
        #expect(!daemon.log.contains("0012003039"), "the full UID is never logged")
    }

    func eventuallyLogged(_ log: RecordingLog, _ message: String) async -> Bool {
        for _ in 0..<100 {
            if log.messages.contains(message) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

/// Cards (full UID: this is a test) and keys as short strings.
final class WiegandRecorded: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var inputs: [String] { lock.withLock { stored } }

    func append(_ input: GateInput) {
        let text = switch input {
        case .card(_, let uid): "card \(uid.hex)"
        case .key(_, .digit(let digit), _): "key \(digit)"
        case .key(_, .submit, _): "key #"
        case .key(_, .clear, _): "key *"
        default: "other"
        }
        lock.withLock { stored.append(text) }
    }

    func eventually(seconds: Double = 5, _ condition: ([String]) -> Bool) async -> Bool {
        for _ in 0..<Int(seconds * 20) {
            if condition(inputs) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition(inputs)
    }
}

extension WedgeTestDaemon {
    /// How many card decisions the audit log holds.
    var cardEvents: Int {
        let listed = cli(["events", "--json"])
        let events = (try? JSONDecoder().decode([Event].self, from: Data(listed.output.utf8))) ?? []
        return events.filter { $0.method == "card" }.count
    }
}
