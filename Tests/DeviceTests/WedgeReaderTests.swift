import CEvdev
import Foundation
import Testing

/// A keyboard-wedge card reader and a PIN pad made with uinput, typing into the real `optgated`.
///
/// Needs `/dev/uinput` (kernel module `uinput`: `modprobe uinput`) and root; skips itself otherwise, as
/// on a development host or container without the module. Runs in the QEMU guest (docs/readers.md):
///
///     modprobe uinput
///     OPTGATE_BIN_DIR=/path/to/debug swift test --skip-build --filter DeviceTests
///   or, with a prebuilt test bundle: `optgatePackageTests.xctest --testing-library swift-testing --filter DeviceTests`
// Generous bounds: in the QEMU guest (TCG) starting a process takes seconds; the limit turns a hang
// into a failure that names the test.
@Suite(.serialized, .enabled(if: Uinput.available, Uinput.skipMessage), .timeLimit(.minutes(3)))
struct WedgeReaderTests {
    @Test func aCardTypedByAUinputWedgeReaderIsGrantedAndAnUnknownOneDenied() throws {
        let keyboard = try VirtualKeyboard(name: "optgate test wedge reader")
        defer { keyboard.destroy() }
        let daemon = try WedgeTestDaemon()
        defer { daemon.stop() }

        let resident = try daemon.addResident(card: "04A1B2C3D4E5F6")
        // With gpio-sim (the QEMU guest), the door is a real GPIO relay on line 10 and the grant must
        // energise it; elsewhere the door is simulated.
        let relay = GPIOSimLine.relay
        let door = relay.map { #"{"name": "main", "methods": ["card", "pin"], "relay": {"pulseSeconds": 2}, "gpio": {"chip": "\#($0.chip)", "relayLine": \#($0.line)}}"# }
            ?? #"{"name": "main", "methods": ["card", "pin"]}"#
        try daemon.start(simulated: relay == nil, config: #"""
            {"doors": [\#(door)],
             "readers": [{"door": "main", "kind": "wedge", "device": "\#(keyboard.eventNode)", "format": "hex"}]}
            """#)
        try #require(daemon.waitForLog("reader device opened", seconds: 60), "the daemon opened \(keyboard.eventNode): \(daemon.log)")

        // The daemon holds the device exclusively: a second grab is refused.
        let other = open(keyboard.eventNode, O_RDONLY | O_NONBLOCK)
        #expect(other >= 0 && gate_evdev_grab(other, 1) != 0 && errno == EBUSY, "EVIOCGRAB is exclusive")
        close(other)

        if let relay { #expect(relay.value == "0", "the relay starts de-energised") }
        try keyboard.type("04A1B2C3D4E5F6\n")
        if let relay {
            #expect(relay.becomes("1", within: 30), "the wedge UID energises the door relay (gpio-sim line \(relay.line))")
        }
        #expect(daemon.eventually(seconds: 30) { events in
            events.contains { $0.method == "card" && $0.result == "granted" && $0.resident == resident }
        }, "the enrolled card is granted: \(daemon.log)")
        if let relay { #expect(relay.becomes("0", within: 30), "the pulse ends and the door relocks") }

        try keyboard.type("04FFFFFFFF\n")
        #expect(daemon.eventually(seconds: 30) { events in
            events.contains { $0.method == "card" && $0.reason == "unknownCard" && $0.resident == nil }
        }, "an unknown card is denied")
        if let relay { #expect(relay.value == "0", "an unknown card leaves the door locked") }
        #expect(!daemon.log.contains("04A1B2C3D4E5F6"), "the full UID is never logged")
    }

    @Test func aPinTypedOnAUinputKeypadIsGranted() throws {
        let keypad = try VirtualKeyboard(name: "optgate test PIN pad", keys: VirtualKeyboard.keypadKeys)
        defer { keypad.destroy() }
        let daemon = try WedgeTestDaemon()
        defer { daemon.stop() }

        let resident = try daemon.addResident(pin: "246813")
        try daemon.start(config: #"""
            {"readers": [{"door": "main", "kind": "keypad", "device": "\#(keypad.eventNode)"}]}
            """#)
        try #require(daemon.waitForLog("reader device opened", seconds: 60), "the daemon opened \(keypad.eventNode): \(daemon.log)")
        try keypad.tapKeypad("246813")
        #expect(daemon.eventually(seconds: 30) { events in
            events.contains { $0.method == "pin" && $0.result == "granted" && $0.resident == resident }
        }, "the PIN typed on the keypad is granted: \(daemon.log)")
    }
}

/// A gpio-sim line as the guest's environment names it (`GATE_GPIO_CHIP`, `GATE_SIM_SYSFS`), read
/// through sysfs: what the line actually carries, whoever drives it.
struct GPIOSimLine {
    let chip: String
    let sysfs: String
    let line: Int

    /// Line 10: clear of the lines DeviceTests uses, which may run at the same time.
    static let relay: GPIOSimLine? = {
        guard let chip = DeviceTests.chip, let sysfs = DeviceTests.sim else { return nil }
        return GPIOSimLine(chip: chip, sysfs: sysfs, line: 10)
    }()

    var value: String { (try? gpioSimValue(sysfs, line: line)) ?? "?" }

    /// Polls every 20 ms (a 2 s pulse is not missed).
    func becomes(_ expected: String, within seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if value == expected { return true }
            usleep(20_000)
        }
        return value == expected
    }
}

private enum Uinput {
    static let available = FileManager.default.fileExists(atPath: "/dev/uinput")
    static let skipMessage: Comment =
        "/dev/uinput does not exist: load the uinput kernel module (modprobe uinput) to run the device tests"
}

/// A uinput keyboard: UI_SET_EVBIT/UI_SET_KEYBIT, UI_DEV_SETUP, UI_DEV_CREATE; typed keys appear on
/// `/dev/input/eventN` like a USB reader's.
private final class VirtualKeyboard {
    let fd: Int32
    let eventNode: String
    static let keys: [Int32] = [KEY_0, KEY_1, KEY_2, KEY_3, KEY_4, KEY_5, KEY_6, KEY_7, KEY_8, KEY_9,
                                KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F, KEY_ENTER, KEY_LEFTSHIFT]

    static let keypadKeys: [Int32] = [KEY_KP0, KEY_KP1, KEY_KP2, KEY_KP3, KEY_KP4, KEY_KP5, KEY_KP6, KEY_KP7, KEY_KP8,
                                      KEY_KP9, KEY_KPENTER, KEY_KPASTERISK]

    init(name: String, keys: [Int32] = VirtualKeyboard.keys) throws {
        let fd = open("/dev/uinput", O_WRONLY | O_NONBLOCK)
        self.fd = fd
        guard fd >= 0 else { throw UinputTestError("cannot open /dev/uinput: \(String(cString: strerror(errno)))") }
        guard gate_uinput_set_evbit(fd, EV_KEY) == 0, keys.allSatisfy({ gate_uinput_set_keybit(fd, $0) == 0 }),
              gate_uinput_setup(fd, name, 0x1234, 0x5678) == 0, gate_uinput_create(fd) == 0
        else { throw UinputTestError("uinput setup failed: \(String(cString: strerror(errno)))") }
        var buffer = [CChar](repeating: 0, count: 64)
        guard gate_uinput_sysname(fd, &buffer, buffer.count) >= 0 else { throw UinputTestError("UI_GET_SYSNAME failed") }
        let sysname = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let directory = "/sys/devices/virtual/input/\(sysname)"
        var node: String?
        let deadline = Date().addingTimeInterval(5)
        while node == nil && Date() < deadline {
            if let event = (try? FileManager.default.contentsOfDirectory(atPath: directory))?.first(where: { $0.hasPrefix("event") }),
               FileManager.default.fileExists(atPath: "/dev/input/\(event)") {
                node = "/dev/input/\(event)"
            } else {
                usleep(20_000)
            }
        }
        guard let node else { throw UinputTestError("no /dev/input/event* appeared for \(directory)") }
        eventNode = node
    }

    func destroy() {
        _ = gate_uinput_destroy(fd)
        close(fd)
    }

    private func emit(_ type: Int32, _ code: Int32, _ value: Int32) throws {
        var event = gate_input_event()
        event.type = UInt16(type)
        event.code = UInt16(code)
        event.value = value
        let written = withUnsafeBytes(of: &event) { write(fd, $0.baseAddress, $0.count) }
        guard written == MemoryLayout<gate_input_event>.size else { throw UinputTestError("writing to uinput failed") }
    }

    private func tap(_ code: Int32, shifted: Bool) throws {
        if shifted { try emit(EV_KEY, KEY_LEFTSHIFT, 1) }
        try emit(EV_KEY, code, 1)
        try emit(EV_SYN, SYN_REPORT, 0)
        try emit(EV_KEY, code, 0)
        if shifted { try emit(EV_KEY, KEY_LEFTSHIFT, 0) }
        try emit(EV_SYN, SYN_REPORT, 0)
        usleep(5_000)
    }

    /// Types digits on the numeric keypad, then keypad Enter.
    func tapKeypad(_ digits: String) throws {
        for digit in digits.compactMap(\.wholeNumberValue) { try tap(Self.keypadKeys[digit], shifted: false) }
        try tap(KEY_KPENTER, shifted: false)
    }

    /// Types hex digits and `\n` the way a wedge reader does (letters with Shift).
    func type(_ text: String) throws {
        for character in text {
            if character == "\n" {
                try tap(KEY_ENTER, shifted: false)
            } else if let value = character.hexDigitValue {
                let code = value == 0 ? KEY_0 : value < 10 ? KEY_1 + Int32(value - 1) : Self.keys[value]
                try tap(code, shifted: value >= 10)
            }
        }
    }
}

/// The real `optgated` and `optgate` beside this test bundle (or in `$OPTGATE_BIN_DIR`).
final class WedgeTestDaemon {  // also WiegandGPIOTests
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-dev-\(UUID().uuidString.prefix(8))").path
    var process: Process?
    var logPath: String { "\(directory)-daemon.log" }
    static let binaries: String = ProcessInfo.processInfo.environment["OPTGATE_BIN_DIR"]
        ?? (((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]) as NSString)
            .deletingLastPathComponent

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func cli(_ arguments: [String], stdin: String? = nil) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(Self.binaries)/optgate")
        process.arguments = ["--state-dir", directory] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        let input = Pipe()
        process.standardInput = input
        guard (try? process.run()) != nil else { return (-1, "cannot run \(Self.binaries)/optgate") }
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func addResident(card: String? = nil, pin: String? = nil) throws -> String {
        let added = cli(["resident", "add", "--name", "Device Test", "--unit", "1-101"])
        guard added.status == 0 else { throw UinputTestError("resident add failed: \(added.output)") }
        let id = added.output.trimmingCharacters(in: .whitespacesAndNewlines)
        if let card {
            let result = cli(["card", "add", id, "--uid", card])
            guard result.status == 0 else { throw UinputTestError("card add failed: \(result.output)") }
        }
        if let pin {
            let result = cli(["pin", "set", id], stdin: pin + "\n")
            guard result.status == 0 else { throw UinputTestError("pin set failed: \(result.output)") }
        }
        return id
    }

    /// - Parameter simulated: `--simulate` (no GPIO); `false` drives the configured GPIO relay.
    func start(simulated: Bool = true, config: String) throws {
        let configPath = "\(directory).json"
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(Self.binaries)/optgated")
        process.arguments = ["--state-dir", directory, "--config", configPath, "--log-level", "debug"] + (simulated ? ["--simulate"] : [])
        let handle = FileHandle(forWritingAtPath: logPath)!
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
    }

    func waitForLog(_ text: String, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if log.contains(text) { return true }
            usleep(50_000)
        }
        return false
    }

    struct Event: Decodable {
        var method: String?
        var result: String?
        var reason: String?
        var resident: String?
    }

    func eventually(seconds: Double, _ condition: ([Event]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            let listed = cli(["events", "--json"])
            if listed.status == 0, let events = try? JSONDecoder().decode([Event].self, from: Data(listed.output.utf8)),
               condition(events) { return true }
            usleep(100_000)
        } while Date() < deadline
        return false
    }

    func stop() {
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.removeItem(atPath: "\(directory).json")
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

struct UinputTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
