import FaceVision
import Foundation
import GPIO
import GateConfiguration
import GateServices
import Glibc
import Logging
import Testing
import V4L2

/// The real V4L2 and GPIO code against real kernel drivers. Each device test runs only when the
/// environment names its device, as TestSupport/vm/guest-tests.sh does inside the QEMU VM (vivid,
/// v4l2loopback, gpio-sim); on a machine without them they are skipped with the reason shown.
/// Serialized: devices are global state.
///
/// - `GATE_YUYV_DEVICE`: a YUYV capture node (vivid), `GATE_VIVID_DISCONNECT=1` allows pressing its
///   "Disconnect" control (the node is gone afterwards until vivid is reloaded)
/// - `GATE_MJPEG_DEVICE`: an MJPEG capture node (v4l2loopback fed 640×480 JPEGs by paired_feeder or mjpeg_feeder)
/// - `GATE_IR_DEVICE`: the infrared partner of `GATE_MJPEG_DEVICE`, a GREY capture node (v4l2loopback fed in step
///   by paired_feeder)
/// - `GATE_GPIO_CHIP` and `GATE_SIM_SYSFS` (the folder holding gpio-sim's `sim_gpioN/value`, `pull`)
@Suite(.serialized) struct DeviceTests {
    static let env = ProcessInfo.processInfo.environment
    static let yuyv = env["GATE_YUYV_DEVICE"]
    static let mjpeg = env["GATE_MJPEG_DEVICE"]
    static let infrared = env["GATE_IR_DEVICE"]
    static let chip = env["GATE_GPIO_CHIP"]
    static let sim = env["GATE_SIM_SYSFS"]

    // MARK: Without devices (run everywhere)

    @Test func aMissingCameraIsAnOpenErrorWithErrnoAndCountsAsLost() throws {
        #expect(throws: V4L2Error.open("/dev/optgate-no-such-camera", ENOENT)) {
            _ = try V4L2Device(path: "/dev/optgate-no-such-camera")
        }
        #expect(V4L2Error.ioctl("DQBUF", ENODEV).deviceLost)
        #expect(!V4L2Error.ioctl("S_FMT", EINVAL).deviceLost)
        #expect("\(V4L2Error.ioctl("DQBUF", ENODEV))" == "VIDIOC_DQBUF failed: No such device (errno 19)")
    }

    @Test func aMissingCameraLogsLostOnceAndNextFrameDoesNotSpin() throws {
        let log = RecordingLog()
        let source = V4L2FrameSource(configuration: try camera("/dev/optgate-no-such-camera"), logger: log.logger)
        let start = ContinuousClock.now
        var calls = 0
        while ContinuousClock.now - start < .seconds(1.2) {
            #expect(try source.nextFrame() == nil)
            calls += 1
        }
        #expect(calls < 20, "nextFrame sleeps while the camera is lost (\(calls) calls in 1.2 s)")
        #expect(log.messages.filter { $0 == "camera lost; retrying, card and PIN unaffected" }.count == 1)
    }

    @Test func aMissingGPIOChipIsARequestErrorNamingChipAndLine() {
        #expect(throws: GPIOError.requestOutput(chip: "gpiochip-optgate-none", line: 3, errno: ENOENT)) {
            _ = try OutputLine(chip: "gpiochip-optgate-none", offset: 3, initial: false)
        }
        #expect(GPIOLibrary.apiMajor == 1 || GPIOLibrary.apiMajor == 2)
        #expect(!GPIOLibrary.version.isEmpty)
    }

    // MARK: V4L2

    @Test(.enabled(if: yuyv != nil, "set GATE_YUYV_DEVICE to a YUYV capture node (vivid) to run"))
    func yuyvCaptureFromVivid() throws {
        do {
            var device = try V4L2Device(path: Self.yuyv!)
            #expect(device.info.capabilities.isSuperset(of: [.videoCapture, .streaming]))
            #expect(try device.formats().contains(.yuyv))
            let format = try device.negotiate(preferring: [.yuyv], width: 640, height: 480, framesPerSecond: 15)
            #expect(format.pixelFormat == .yuyv && format.width == 640 && format.height == 480)
            #expect(format.bytesPerLine >= 1280)
            try device.startStreaming(bufferCount: 4)
            #expect(device.bufferCount >= 2)
            var sequences: [UInt32] = []
            while sequences.count < 3 {
                #expect(try device.waitForFrame(timeout: .seconds(5)), "a frame within 5 s")
                guard let frame = try device.newestFrame() else { continue }
                #expect(frame.bytes.count == format.bytesPerLine * 480)
                #expect(frame.bytes.contains { $0 != 0 }, "vivid's test pattern is not black")
                sequences.append(frame.sequence)
            }
            #expect(sequences == sequences.sorted() && Set(sequences).count == 3)
            // Let every buffer fill while nobody reads: only the newest comes back, the rest are requeued.
            Thread.sleep(forTimeInterval: 1.5)
            let newest = try #require(try device.newestFrame())
            #expect(newest.dropped >= 1, "older buffers were handed back unread")
            #expect(newest.sequence > sequences.last! + UInt32(newest.dropped))
            try device.stopStreaming()
        }  // closed here: vivid streams to one owner at a time

        // The adapter converts YUYV to BGR.
        let source = V4L2FrameSource(configuration: try camera(Self.yuyv!, format: "yuyv"), logger: RecordingLog().logger)
        let frame = try firstFrame(source)
        guard case .bgr(let image) = frame else { Issue.record("expected a BGR frame, got \(frame)"); return }
        #expect(image.width == 640 && image.height == 480)
        #expect(source.format?.pixelFormat == .yuyv)
    }

    @Test(.enabled(if: mjpeg != nil, "set GATE_MJPEG_DEVICE to an MJPEG capture node (v4l2loopback + mjpeg_feeder) to run"))
    func mjpegCaptureFromLoopbackDecodesAndTheNewestFrameWins() throws {
        var device = try V4L2Device(path: Self.mjpeg!)
        let format = try device.negotiate(preferring: [.mjpeg, .jpeg, .yuyv], width: 640, height: 480, framesPerSecond: 15)
        #expect(format.pixelFormat.isJPEG, "auto prefers MJPEG: got \(format)")
        try device.startStreaming(bufferCount: 4)
        #expect(try device.waitForFrame(timeout: .seconds(5)))
        let first = try #require(try device.newestFrame())
        // v4l2loopback hands a slow reader the latest written frame: the sequence jumps.
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try device.waitForFrame(timeout: .seconds(5)))
        let frame = try #require(try device.newestFrame())
        #expect(frame.sequence >= first.sequence + 5, "frames written meanwhile were skipped (\(first.sequence) -> \(frame.sequence))")
        #expect(frame.bytes.starts(with: [0xFF, 0xD8]))
        let image = try JPEGDecoder().decode(frame.bytes)
        #expect(image.width == 640 && image.height == 480)
        try device.stopStreaming()

        let source = V4L2FrameSource(configuration: try camera(Self.mjpeg!), logger: RecordingLog().logger)
        guard case .jpeg(let bytes) = try firstFrame(source) else { Issue.record("expected a JPEG frame"); return }
        #expect(try JPEGDecoder().decode(bytes).width == 640)
    }

    @Test(.enabled(if: mjpeg != nil && infrared != nil,
                   "set GATE_MJPEG_DEVICE and GATE_IR_DEVICE (v4l2loopback nodes fed MJPEG and GREY by paired_feeder) to run"))
    func aColourAndAGreyInfraredCameraArePairedFromTheFirstFrame() throws {
        let config = try DaemonConfiguration(json: Data("""
            {"doors": [{"name": "main", "methods": ["face", "card"]}],
             "face": {"source": {"camera": {"device": "\(Self.mjpeg!)", "stallSeconds": 3}}, "liveness": "ir",
                      "infrared": {"camera": {"device": "\(Self.infrared!)", "stallSeconds": 3}}}}
            """.utf8))
        let source = try #require(try config.face.makeFrameSource(logger: RecordingLog().logger) as? PairedCameraFrameSource)
        for index in 0..<4 {
            let deadline = ContinuousClock.now + .seconds(10)
            var colour: Frame?
            while colour == nil && ContinuousClock.now < deadline { colour = try source.nextFrame() }
            guard case .jpeg(let bytes)? = colour else { Issue.record("colour frame \(index): expected MJPEG, got \(String(describing: colour))"); return }
            #expect(try JPEGDecoder().decode(bytes).width == 640)
            // Every colour frame, the first one too, has its infrared partner: a GREY frame converted to BGR.
            let infrared = try source.infraredFrame()
            guard case .bgr(let image)? = infrared else { Issue.record("colour frame \(index) has no infrared partner: \(String(describing: infrared))"); return }
            #expect(image.width == 640 && image.height == 480)
            let row = image.pixels[(240 * image.stride)..<(240 * image.stride + 3 * 640)]
            #expect(stride(from: 0, to: row.count, by: 3).allSatisfy { row[row.startIndex + $0] == row[row.startIndex + $0 + 2] }, "grey: B = R")
            #expect(row.contains { $0 > 30 }, "the live infrared frame is lit")
        }
        #expect(source.formats.colour?.pixelFormat.isJPEG == true)
        #expect(source.formats.infrared?.pixelFormat == .grey, "auto takes an infrared camera's GREY stream")
    }

    @Test(.enabled(if: yuyv != nil && env["GATE_VIVID_DISCONNECT"] == "1",
                   "set GATE_YUYV_DEVICE (vivid) and GATE_VIVID_DISCONNECT=1 and press vivid's Disconnect control meanwhile"))
    func unpluggingSurfacesENODEVFromDQBUF() throws {
        var device = try V4L2Device(path: Self.yuyv!)
        try device.negotiate(preferring: [.yuyv], width: 640, height: 480, framesPerSecond: nil)
        try device.startStreaming(bufferCount: 4)
        #expect(try device.waitForFrame(timeout: .seconds(5)))
        _ = try device.newestFrame()
        // The guest script presses vivid's "Disconnect" button control (v4l2-ctl -c disconnect=1), which
        // unregisters the node as a USB unplug does, a few seconds after this test starts.
        let error = #expect(throws: V4L2Error.self) {
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                _ = try device.waitForFrame(timeout: .milliseconds(100))
                _ = try device.newestFrame()
            }
        }
        #expect(error == .ioctl("DQBUF", ENODEV), "got \(String(describing: error))")
        #expect(error?.deviceLost == true)
    }

    // MARK: GPIO

    @Test(.enabled(if: chip != nil && sim != nil, "set GATE_GPIO_CHIP and GATE_SIM_SYSFS (gpio-sim) to run"))
    func relayToggleSeenBySimulator() throws {
        do {
            let relay = try GPIORelay(chip: Self.chip!, line: 3, activeLow: false)
            #expect(try simValue(3) == "0", "requested at the de-energised level")
            try relay.set(energized: true)
            #expect(try simValue(3) == "1" && relay.isEnergized)
            try relay.set(energized: false)
            #expect(try simValue(3) == "0" && !relay.isEnergized)
            #expect(throws: GPIOError.self, "a requested line is busy for a second requester") {
                _ = try OutputLine(chip: Self.chip!, offset: 3, initial: false)
            }
        }
        let inverted = try GPIORelay(chip: Self.chip!, line: 2, activeLow: true)
        #expect(try simValue(2) == "1", "active-low: de-energised is high")
        try inverted.set(energized: true)
        #expect(try simValue(2) == "0")
    }

    @Test(.enabled(if: chip != nil && sim != nil, "set GATE_GPIO_CHIP and GATE_SIM_SYSFS (gpio-sim) to run"))
    func inputPullsBecomeDebouncedDoorInputs() async throws {
        for line in [4, 5, 6, 7] { try pull(line, up: false) }
        let object = try GPIOConfigurationFixture.make(chip: Self.chip!, json: """
            {"chip": "\(Self.chip!)", "relayLine": 1, "contactLine": 4, "rexLine": 5, "rexActiveLow": false,
             "fireLine": 6, "tamperLine": 7, "debounceMilliseconds": 30}
            """)
        let recorded = Recorded()
        let inputs = try GPIODoorInputs(door: "main", configuration: object.configuration, logger: RecordingLog().logger) {
            recorded.append($0)
        }
        let task = Task { try await inputs.run() }
        defer { task.cancel() }
        try await Task.sleep(for: .milliseconds(500))
        #expect(recorded.inputs.isEmpty, "nothing is active at start")

        try pull(4, up: true)
        #expect(await recorded.eventually { $0.contains("contact main open=true") })
        try pull(4, up: false)
        #expect(await recorded.eventually { $0.contains("contact main open=false") })
        try pull(5, up: true)
        #expect(await recorded.eventually { $0.contains("rex main") })
        try pull(5, up: false)
        try pull(6, up: true)
        #expect(await recorded.eventually { $0.contains("fire all active=true") })
        try pull(6, up: false)
        #expect(await recorded.eventually { $0.contains("fire all active=false") })
        try pull(7, up: true)
        #expect(await recorded.eventually { $0.contains("tamper main") })
        try pull(7, up: false)
        try await Task.sleep(for: .milliseconds(300))
        #expect(recorded.inputs.filter { $0 == "rex main" }.count == 1, "REX reports the press, not the release")
        task.cancel()
        _ = try? await task.value
    }

    // MARK: Helpers

    func camera(_ device: String, format: String = "auto") throws -> CameraConfiguration {
        let config = try DaemonConfiguration(json: Data("""
            {"doors": [{"name": "main", "methods": ["face", "card"]}],
             "face": {"source": {"camera": {"device": "\(device)", "format": "\(format)", "stallSeconds": 3}}}}
            """.utf8))
        return try #require(config.face.camera)
    }

    func firstFrame(_ source: V4L2FrameSource) throws -> Frame {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let frame = try source.nextFrame() { return frame }
        }
        throw DeviceTestError("no frame within 10 s")
    }

    func simValue(_ line: Int) throws -> String { try gpioSimValue(Self.sim!, line: line) }

    func pull(_ line: Int, up: Bool) throws {
        try (up ? "pull-up" : "pull-down").write(toFile: "\(Self.sim!)/sim_gpio\(line)/pull", atomically: false, encoding: .utf8)
    }
}

/// What gpio-sim's line `line` carries, read from the bank's sysfs folder `sim`, whoever drives it.
func gpioSimValue(_ sim: String, line: Int) throws -> String {
    try String(contentsOfFile: "\(sim)/sim_gpio\(line)/value", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
}

struct DeviceTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A door configuration parsed the way optgated parses it.
struct GPIOConfigurationFixture {
    var configuration: DoorGPIOConfiguration

    static func make(chip: String, json: String) throws -> GPIOConfigurationFixture {
        let config = try DaemonConfiguration(json: Data("{\"doors\": [{\"name\": \"main\", \"gpio\": \(json)}]}".utf8))
        return GPIOConfigurationFixture(configuration: try #require(config.doors[0].gpio))
    }
}

/// Gate inputs as short strings, in arrival order.
final class Recorded: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    var inputs: [String] { lock.withLock { stored } }

    func append(_ input: GateInput) {
        let text = switch input {
        case .contact(let door, let open): "contact \(door) open=\(open)"
        case .exitRequest(let door): "rex \(door)"
        case .fire(let door, let active): "fire \(door ?? "all") active=\(active)"
        case .tamper(let door): "tamper \(door)"
        default: "\(input)"
        }
        lock.withLock { stored.append(text) }
    }

    func eventually(within seconds: Double = 5, _ condition: ([String]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if condition(inputs) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(inputs)
    }
}

/// A logger whose messages the test can read.
final class RecordingLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var messages: [String] { lock.withLock { stored } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    func record(_ message: String) { lock.withLock { stored.append(message) } }

    struct Handler: LogHandler {
        let log: RecordingLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            log.record(event.message.description)
        }
    }
}
