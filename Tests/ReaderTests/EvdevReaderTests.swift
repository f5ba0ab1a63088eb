import CEvdev
import Foundation
import GateCore
import GateServices
import GateStore
import Logging
import Testing

/// What a reader submitted, in order.
final class Submissions: @unchecked Sendable {
    private let lock = NSLock()
    private var inputs: [GateInput] = []

    func append(_ input: GateInput) { lock.withLock { inputs.append(input) } }

    var cards: [String] {
        lock.withLock { inputs.compactMap { if case .card(_, let uid) = $0 { uid.hex } else { nil } } }
    }

    var keys: [KeypadKey] {
        lock.withLock { inputs.compactMap { if case .key(_, let key, _) = $0 { key } else { nil } } }
    }

    func eventually(within seconds: Double, _ condition: (Submissions) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(self) { return true }
            usleep(20_000)
        }
        return condition(self)
    }
}

/// A recorded keyboard session: key presses and releases with kernel timestamps and SYN reports, the
/// way a USB wedge reader or PIN pad writes them.
struct Recording {
    var events: [InputEvent] = []
    var time: Double = 1_700_000_000

    mutating func press(_ code: Int32, shifted: Bool = false, after seconds: Double = 0.008) {
        time += seconds
        let (whole, fraction) = (Int64(time), Int64((time - time.rounded(.down)) * 1_000_000))
        func add(_ type: Int32, _ code: Int32, _ value: Int32) {
            events.append(InputEvent(seconds: whole, microseconds: fraction, type: UInt16(type), code: UInt16(code), value: value))
        }
        if shifted { add(EV_KEY, KEY_LEFTSHIFT, 1); add(EV_SYN, SYN_REPORT, 0) }
        add(EV_MSC, MSC_SCAN, 0x7001e)
        add(EV_KEY, code, 1)
        add(EV_SYN, SYN_REPORT, 0)
        add(EV_KEY, code, 2)  // auto-repeat: not a second key stroke
        add(EV_SYN, SYN_REPORT, 0)
        add(EV_KEY, code, 0)
        add(EV_SYN, SYN_REPORT, 0)
        if shifted { add(EV_KEY, KEY_LEFTSHIFT, 0); add(EV_SYN, SYN_REPORT, 0) }
    }

    mutating func type(_ text: String, after seconds: Double = 0.008) {
        for character in text {
            switch character {
            case "\n": press(KEY_ENTER, after: seconds)
            case "0": press(KEY_0, after: seconds)
            case "1"..."9": press(KEY_1 + Int32(character.wholeNumberValue! - 1), after: seconds)
            case "A"..."F": press(KEY_A_F[Int(character.hexDigitValue! - 10)], shifted: true, after: seconds)
            case "#": press(KEY_NUMERIC_POUND, after: seconds)
            case "*": press(KEY_KPASTERISK, after: seconds)
            default: press(KEY_X, after: seconds)
            }
        }
    }

    var bytes: [UInt8] { events.flatMap(\.bytes) }
}

private let KEY_A_F: [Int32] = [KEY_A, KEY_B, KEY_C, KEY_D, KEY_E, KEY_F]

/// A FIFO standing in for `/dev/input/eventN`: the reader opens it like the device; the test writes a
/// recorded byte stream into it.
final class EventFIFO: @unchecked Sendable {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("og-evdev-\(UUID().uuidString.prefix(8))").path
    private var writer: Int32 = -1

    init() throws {
        guard mkfifo(path, 0o600) == 0 else { throw POSIXError(.init(rawValue: errno)!) }
    }

    deinit {
        if writer >= 0 { close(writer) }
        unlink(path)
    }

    /// Opens the write end (blocks until the reader has opened its end, which it retries).
    func write(_ bytes: [UInt8], chunk: Int = 7) {
        if writer < 0 { writer = open(path, O_WRONLY) }
        // Odd-sized chunks: the reader must reassemble events split across reads.
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunk, bytes.count)
            _ = bytes[offset..<end].withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) }
            offset = end
            usleep(200)
        }
    }

    /// Closes the write end: the reader sees the source end, as on unplug.
    func unplug() {
        close(writer)
        writer = -1
    }
}

@Suite(.serialized) struct EvdevReaderTests {
    let logger = Logger(label: "test")

    @Test func inputEventsRoundTripThroughTheKernelLayout() {
        #expect(InputEvent.size == 24)
        let event = InputEvent(seconds: 1_700_000_123, microseconds: 456_789, type: UInt16(EV_KEY), code: UInt16(KEY_5), value: 1)
        let bytes = event.bytes + event.bytes + [1, 2, 3]
        let (events, consumed) = bytes.withUnsafeBytes { InputEvent.decode($0) }
        #expect(events == [event, event] && consumed == 48)
        #expect(events[0].isKeyPress)
    }

    @Test func keyCodesMapWithoutAKeymap() {
        #expect(EvdevKeys.keypadKey(UInt16(KEY_KP7)) == .digit(7))
        #expect(EvdevKeys.keypadKey(UInt16(KEY_0)) == .digit(0))
        #expect(EvdevKeys.keypadKey(UInt16(KEY_NUMERIC_9)) == .digit(9))
        #expect(EvdevKeys.keypadKey(UInt16(KEY_KPENTER)) == .submit)
        #expect(EvdevKeys.keypadKey(UInt16(KEY_NUMERIC_POUND)) == .submit)
        #expect(EvdevKeys.keypadKey(UInt16(KEY_ESC)) == .clear)
        #expect(EvdevKeys.keypadKey(UInt16(KEY_BACKSPACE)) == .clear)
        #expect(EvdevKeys.keypadKey(UInt16(KEY_KPASTERISK)) == .clear)
        #expect(EvdevKeys.keypadKey(UInt16(KEY_Q)) == nil)
        #expect(EvdevKeys.wedgeKey(UInt16(KEY_F)) == .hexDigit(15))
        #expect(EvdevKeys.wedgeKey(UInt16(KEY_LEFTSHIFT)) == nil)
        #expect(EvdevKeys.wedgeKey(UInt16(KEY_G)) == .other)
    }

    @Test func aWedgeStreamBecomesCardsAndSurvivesTheSourceGoingAway() async throws {
        let fifo = try EventFIFO()
        let seen = Submissions()
        let reader = EvdevReader(door: "main", devicePath: fifo.path, role: .wedge(WedgeRules()), exclusive: false,
                                 backoff: ReaderBackoff(initial: .milliseconds(20), maximum: .milliseconds(100)),
                                 logger: logger, sink: seen.append)
        let task = Task { try await reader.run() }
        defer { task.cancel() }

        var recording = Recording()
        recording.type("3735928559\n")           // decimal → DEADBEEF
        recording.type("04A1B2C3D4E5F6\n")       // hex letters (with shift) → as typed
        recording.type("1234")
        recording.time += 2                      // the pause discards "1234"
        recording.type("99999999\n")             // → 05F5E0FF
        recording.type("12x45678\n")             // a stray key spoils the entry
        recording.type("04A1B2\n")               // 3 bytes: too short
        fifo.write(recording.bytes)
        #expect(seen.eventually(within: 5) { $0.cards.count == 3 }, "got \(seen.cards)")
        #expect(seen.cards == ["DEADBEEF", "04A1B2C3D4E5F6", "05F5E0FF"])

        fifo.unplug()
        usleep(100_000)
        var again = Recording()
        again.type("3735928559\n")
        fifo.write(again.bytes)
        #expect(seen.eventually(within: 5) { $0.cards.count == 4 }, "the reader reopens its source after it went away")
        #expect(seen.cards.last == "DEADBEEF")
    }

    @Test func aKeypadStreamBecomesKeys() async throws {
        let fifo = try EventFIFO()
        let seen = Submissions()
        let reader = EvdevReader(door: "main", devicePath: fifo.path, role: .keypad, exclusive: false, logger: logger,
                                 sink: seen.append)
        let task = Task { try await reader.run() }
        defer { task.cancel() }
        var recording = Recording()
        recording.type("12*2468#")
        recording.press(KEY_KP5)
        recording.press(KEY_KPENTER)
        recording.press(KEY_Q)
        fifo.write(recording.bytes)
        #expect(seen.eventually(within: 5) { $0.keys.count == 10 })
        #expect(seen.keys == [.digit(1), .digit(2), .clear, .digit(2), .digit(4), .digit(6), .digit(8), .submit, .digit(5), .submit])
    }

    @Test func aMissingDeviceIsRetriedAndStopsPromptly() async throws {
        let seen = Submissions()
        let reader = EvdevReader(door: "main", devicePath: "/dev/input/by-id/no-such-reader", role: .keypad, logger: logger,
                                 sink: seen.append)
        let started = ContinuousClock.now
        let task = Task { try await reader.run() }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        try await task.value
        #expect(ContinuousClock.now - started < .seconds(2), "cancellation ends the reader thread within its poll interval")
    }
}

@Suite struct PCSCResponseTests {
    @Test func theUIDNeedsStatus9000AndFourToTenBytes() {
        #expect((try? PCSCReader.parseUIDResponse([0x04, 0xA1, 0xB2, 0xC3, 0x90, 0x00]).get())?.hex == "04A1B2C3")
        #expect((try? PCSCReader.parseUIDResponse([0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x90, 0x00]).get())?.hex
            == "04A1B2C3D4E5F6")
        for bad: [UInt8] in [[], [0x90], [0x6A, 0x81], [0x04, 0xA1, 0xB2, 0xC3, 0x63, 0x00], [0x04, 0xA1, 0xB2, 0x90, 0x00]] {
            #expect(throws: ReaderError.self) { try PCSCReader.parseUIDResponse(bad).get() }
        }
        if case .failure(let error) = PCSCReader.parseUIDResponse([0x6A, 0x81]) {
            #expect(error.description.contains("6A 81"))
        }
    }
}
