import FaceVision
import Foundation
import GateControl
import Testing

/// Issue 16 (bad input that broke the daemon) and the control-socket part of issue 9, against the real
/// `optgated` and `optgate`. The campaign's own inputs live in `Tests/Fixtures/bad-input` (or
/// `$OPTGATE_BAD_INPUT_DIR`) and are copied beside each test's state directory, never modified.
@Suite(.serialized) struct BadInputTests {
    static let badInputDirectory = ProcessInfo.processInfo.environment["OPTGATE_BAD_INPUT_DIR"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/bad-input").path

    /// Copies a bad-input file beside the gate's state directory. - Returns: the copy's path.
    func copyBadInput(_ name: String, for gate: Gate) throws -> String {
        let copy = "\(gate.directory)-\(name)"
        try FileManager.default.copyItem(atPath: "\(Self.badInputDirectory)/\(name)", toPath: copy)
        return copy
    }

    /// Runs `optgated` expecting it to refuse to start; one that starts anyway is killed after `seconds`
    /// (exit status -1), so a regression fails the test instead of hanging it.
    func refusedStart(_ arguments: [String], within seconds: Double = 10) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binaries.daemon)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        let started = process.isRunning
        if started { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return CommandResult(status: started ? -1 : process.terminationStatus, stdout: "", stderr: stderr)
    }

    // MARK: 1. Numbers beyond Int

    @Test func aHugeNumberIsRefusedByCheckAndByTheDaemon() throws {
        let gate = Gate()
        let path = try copyBadInput("config-1e20.json", for: gate)
        let check = Gate.execute(Binaries.cli, ["config", "check", path])
        #expect(check.status == 1, "exit \(check.status): \(check.stderr)")
        #expect(check.stdout.contains("doors[0].relay.pulseSeconds: 1e+20 is out of range 0.1–30"), "\(check.stdout)")
        let daemon = try refusedStart(["--state-dir", gate.directory, "--config", path])
        #expect(daemon.status == 78, "exit \(daemon.status): \(daemon.stderr)")
        #expect(daemon.stderr.contains("configuration key doors[0].relay.pulseSeconds: 1e+20 is out of range"), "\(daemon.stderr)")

        let (negative, _) = try gate.checkConfig(#"{"keypad": {"lockoutSeconds": -1e19}}"#, name: "negative")
        #expect(negative.status == 1 && negative.stdout.contains("keypad.lockoutSeconds: -1e+19 is out of range 1–86400"), "\(negative.stdout)")
    }

    @Test func aReloadToAHugeNumberIsRefusedAndTheOldConfigurationKeepsRunning() throws {
        let gate = Gate()
        try gate.start(config: #"{"doors": [{"name": "main", "methods": ["card"], "relay": {"pulseSeconds": 0.3}}]}"#)
        let pid = try #require(gate.daemon?.processIdentifier)
        try FileManager.default.removeItem(atPath: gate.configPath)
        try FileManager.default.copyItem(atPath: try copyBadInput("config-1e20.json", for: gate), toPath: gate.configPath)
        kill(pid, SIGHUP)
        #expect(gate.eventually(within: 5) { gate.daemonOutput.contains("configuration reload refused") }, "\(gate.daemonOutput)")
        #expect(gate.daemonOutput.contains("pulseSeconds: 1e+20 is out of range"))
        #expect(gate.daemon?.isRunning == true)
        _ = gate.simulate("rex")
        #expect(gate.eventually(within: 2) { (try? gate.status().doors[0].lock) == .locked }, "the old 0.3 s pulse still runs")
    }

    // MARK: 5. Leniency in the configuration file

    @Test(arguments: [
        (#"{"doors": [{"name": "main", "relay": {"pulseSeconds": 3, "pulseSeconds": 45}}]}"#,
         "configuration key doors[0].relay.pulseSeconds: the key appears twice in the same object"),
        (#"{"doors": [{"name": "main", "relay": {"pulseSeconds": 45, "pulseSeconds": 3}}]}"#,
         "configuration key doors[0].relay.pulseSeconds: the key appears twice in the same object"),
        (#"{"doors": [{"name": "main", "methods": ["face", "card"]}], "face": {"captureZone": [0.1, 0.1, 0, 0.5]}}"#,
         "configuration key face.captureZone: the width and height must be more than 0"),
        ("{\"doors\": [{\"name\": \"main\",\n \"relay\": {\"pulseSeconds\": NaN}}]}",
         "not valid JSON: NaN and Infinity are not JSON numbers at line 2, column 28 (in doors[0].relay.pulseSeconds)"),
        (#"{"keypad": {"lockoutSeconds": Infinity}}"#, "not valid JSON: NaN and Infinity are not JSON numbers at line 1, column 31"),
        (#"{"keypad": {"lockoutSeconds": 1e400}}"#, "not valid JSON: the number 1e400 is too large at line 1, column 31"),
        ("{\"keypad\": {}}\n\n  garbage", "not valid JSON: unexpected 'g' after the end of the document at line 3, column 3"),
    ])
    func lenientConfigurationIsRefusedByNameOrPosition(config: String, message: String) throws {
        let gate = Gate()
        let (check, path) = try gate.checkConfig(config)
        #expect(check.status == 1)
        #expect(check.stdout.contains(message), "\(check.stdout)")
        let daemon = try refusedStart(["--state-dir", gate.directory, "--config", path])
        #expect(daemon.status == 78)
        #expect(daemon.stderr.contains(message), "\(daemon.stderr)")
    }

    // MARK: 2. A corrupt frame

    func replayConfig(_ replay: String, fps: Int, loop: Bool) -> String {
        """
        {"doors": [{"name": "main", "methods": ["face", "card", "pin"]}],
         "face": {"modelsDirectory": "\(FaceTests.models)", "liveness": "none", "noLivenessAcknowledged": true, "source": {"replay": "\(replay)", "fps": \(fps), "loop": \(loop)}}}
        """
    }

    @Test func cleanFramesAreProcessedAgainAfterACorruptOne() throws {
        let gate = Gate()
        let replay = try copyBadInput("poison-frame-then-10-clean.mjpeg", for: gate)
        try gate.start(config: replayConfig(replay, fps: 10, loop: false))
        // The clip plays once in 1.1 s; a slow machine analyses fewer frames than it shows, never none.
        #expect(gate.eventually(within: 30) { ((try? gate.status().face.framesProcessed) ?? 0) >= 1 }, "\(gate.run(["status"]).stdout)")
        usleep(2_000_000)
        let face = try gate.status().face
        #expect(face.framesSkipped == 1, "only the corrupt frame is skipped: \(face)")
        #expect(face.framesProcessed >= 1 && face.state == .on && face.skippedInARow == 0, "\(face)")
    }

    @Test func aPipelineThatSkipsEveryFrameIsShownAsDegraded() throws {
        let gate = Gate()
        let clip = try copyBadInput("poison-frame-then-10-clean.mjpeg", for: gate)
        let corrupt = try #require(Self.splitMJPEG(Array(try Data(contentsOf: URL(fileURLWithPath: clip)))).first)
        let directory = "\(gate.directory)-corrupt-frames"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(corrupt).write(to: URL(fileURLWithPath: "\(directory)/0.jpg"))
        try gate.start(config: replayConfig(directory, fps: 50, loop: true))
        #expect(gate.eventually(within: 20) { (try? gate.status().face.state) == .degraded })
        let status = gate.run(["status"])
        #expect(status.stdout.contains("face entry: degraded"), "\(status.stdout)")
        #expect(status.stdout.contains("frames were all skipped (the JPEG is corrupt"), "\(status.stdout)")
        let face = try gate.status().face
        #expect(face.framesProcessed == 0 && face.skippedInARow >= 10 && face.framesSkipped >= face.skippedInARow, "\(face)")
        #expect(gate.daemonOutput.contains("face entry degraded"))
        #expect(gate.simulate("rex") == "granted (exitRequest)", "card, PIN and exit keep working")
        let id = try gate.resident(name: "Camera")
        #expect(gate.run(["consent", "grant", id, "--notice-version", "1"]).succeeded)
        let enrol = gate.run(["face", "enroll", id, "--camera", "--frames", "1"])
        #expect(enrol.status == 1 && enrol.stderr.contains("the camera delivers no usable frames"), "\(enrol.stderr)")
    }

    /// Concatenated JPEGs, split at each start-of-image marker that follows an end-of-image marker.
    static func splitMJPEG(_ bytes: [UInt8]) -> [[UInt8]] {
        var frames: [[UInt8]] = []
        var start: Int?
        for index in 0..<max(0, bytes.count - 1) {
            if bytes[index] == 0xFF && bytes[index + 1] == 0xD8 && start == nil {
                start = index
            } else if bytes[index] == 0xFF && bytes[index + 1] == 0xD9, let first = start {
                frames.append(Array(bytes[first...(index + 1)]))
                start = nil
            }
        }
        return frames
    }

    // MARK: 6. Images

    @Test func aCMYKPhotoIsRefusedForItsColourSpace() throws {
        let gate = Gate()
        let id = try gate.resident()
        #expect(gate.run(["consent", "grant", id, "--notice-version", "1"]).succeeded)
        let (width, height) = (320, 240)
        var cmyk = [UInt8](repeating: 0, count: width * height * 4)
        for index in stride(from: 0, to: cmyk.count, by: 4) { cmyk[index + 1] = 90; cmyk[index + 3] = 20 }
        let path = "\(gate.directory)-cmyk.jpg"
        try Data(try JPEGEncoder().encodeCMYK(width: width, height: height, pixels: cmyk)).write(to: URL(fileURLWithPath: path))
        let enrol = gate.run(["face", "enroll", id, "--models", FaceTests.models, "--image", path])
        #expect(enrol.status == 1)
        #expect(enrol.stderr.contains("colour space, which is not supported"), "\(enrol.stderr)")
        #expect(!enrol.stderr.contains("corrupt"), "\(enrol.stderr)")
    }

    // MARK: 3. Dates

    @Test func impossibleDatesAreRefusedWithTheFieldNamed() throws {
        let gate = Gate()
        for date in ["2000-02-30", "2024-13-01", "2023-02-29", "2024-00-10", "2024-04-31", "9999-12-31", "10000-01-01",
                     "2024-1-01", "2024-02-30T10:00:00Z", "2024-02-10T24:00:00Z", "2024-02-10T10:61:00Z", "1969-12-31"] {
            let added = gate.run(["resident", "add", "--name", "A", "--unit", "1", "--valid-until", date])
            #expect(added.status != 0, "\(date) was accepted: \(added.stdout)")
            #expect(added.stderr.contains("--valid-until") && added.stderr.contains("1970-01-01 to 9999-12-30"), "\(date): \(added.stderr)")
        }
        for date in ["2024-02-30", "2024-13-01", "2024-02-30T00:00:00Z"] {
            let events = gate.run(["events", "--since", date])
            #expect(events.status != 0, "--since \(date) was accepted")
            #expect(events.stderr.contains("--since") && events.stderr.contains("1970-01-01 to 9999-12-30"), "\(events.stderr)")
        }
        #expect(gate.run(["events", "--since", "2024-02-29"]).succeeded)
        #expect(gate.run(["events", "--since", "2024-02-29T10:00:00.250+08:00"]).succeeded)
    }

    @Test func theLastAcceptedDayPrintsAsISO8601() throws {
        let gate = Gate()
        let id = try gate.resident(validUntil: "9999-12-30")
        let shown = gate.run(["resident", "show", id, "--json"])
        struct Shown: Decodable { var validUntil: String }
        let validUntil = try JSONDecoder().decode(Shown.self, from: Data(shown.stdout.utf8)).validUntil
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(formatter.date(from: validUntil) != nil, "\(validUntil) is not ISO 8601")
        #expect(validUntil.hasPrefix("9999-12-3"), "\(validUntil)")
        // A leap day is a real day.
        let leap = try gate.resident(name: "Leap", validUntil: "2024-02-29")
        #expect(gate.run(["resident", "show", leap, "--json"]).stdout.contains("2024-0"))
    }

    // MARK: 4. PIN from standard input

    @Test func aPINMustBeOneLineOfDigits() throws {
        let gate = Gate()
        let id = try gate.resident()
        for input in ["4829\n16", "4829\n16\n", "4829\n\n", " 482916\n", "482916 \n", "48 29\n", "482916\r\n", "\n", "", "4829x\n"] {
            let result = gate.run(["pin", "set", id], stdin: input)
            #expect(result.status != 0, "\(input.debugDescription) was accepted")
            #expect(!result.stderr.isEmpty, "\(input.debugDescription): no message")
        }
        #expect(gate.run(["pin", "set", id], stdin: "4829\n16").stderr.contains("more than one line"))
        #expect(gate.run(["resident", "show", id]).stdout.contains("PIN:           not set"))
        #expect(gate.run(["pin", "set", id], stdin: "482916\n").succeeded)
        #expect(gate.run(["pin", "set", id], stdin: "482917").succeeded, "no final newline is fine")
    }

    // MARK: 7. Simulation hooks

    @Test func oneStallAtATimeAndShutdownCancelsIt() throws {
        let gate = Gate()
        try gate.start()
        #expect(gate.simulate("stall", "60").contains("stalled"))
        let second = gate.simulate("stall", "1")
        #expect(second.hasPrefix("error:") && second.contains("already running"), "\(second)")
        let started = Date()
        let status = gate.stop()
        let took = Date().timeIntervalSince(started)
        #expect(status == 0)
        #expect(took < 5, "SIGTERM waited \(took) s for the stall")
    }

    @Test func aKeysRequestIsCapped() throws {
        let gate = Gate()
        _ = try gate.resident(pin: "482916")
        try gate.start()
        let tooMany = gate.simulate("keys", String(repeating: "1", count: 65))
        #expect(tooMany.contains("at most 64 keys per request"), "\(tooMany)")
        let pinTooLong = gate.simulate("pin", String(repeating: "7", count: 8000))
        #expect(pinTooLong.contains("at most 64 keys per request"), "\(pinTooLong)")
        #expect(try gate.events().isEmpty, "the refused requests injected nothing")
        // The most one request can now write: 64 keys of an overlong PIN are one denial per 9 keys
        // (8,000 digits wrote 888 entries before).
        #expect(!gate.simulate("keys", String(repeating: "1", count: 64)).hasPrefix("error:"))
        let written = try gate.events().count
        #expect(written >= 1 && written <= 64 / 9 + 1, "\(written) events")
    }

    @Test func garbageLinesLeaveABoundedLog() throws {
        let gate = Gate()
        try gate.start()
        let sizeBefore = gate.daemonOutput.utf8.count
        var client = try RawControlConnection(gate.socket)
        var generator = SystemRandomNumberGenerator()
        var payload: [UInt8] = []
        for index in 0..<2000 {
            let length = Int.random(in: 1...40, using: &generator)
            var line = (0..<length).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
            if index % 3 == 0 { line = Array("{\"command\": \"explode\(index)\"}".utf8) }
            payload += line + [0x0A]
        }
        client.write(payload)
        let replies = client.readLines(2000, within: 20)
        #expect(replies.count == 2000)
        #expect(replies.allSatisfy { $0.contains("malformed request") })
        client.close()
        #expect(try gate.status().doors.count == 1)
        #expect(gate.eventually(within: 2) { gate.daemonOutput.contains("were not logged") })
        let log = String(gate.daemonOutput.utf8.dropFirst(sizeBefore)) ?? ""
        let lines = log.split(separator: "\n").filter { $0.contains("malformed") }
        #expect(lines.filter { !$0.contains("were not logged") }.count == 3, "\(lines)")
        #expect(lines.filter { $0.contains("were not logged") && $0.contains("requests.unlogged=1997") }.count == 1, "\(lines)")
        #expect(lines.joined().utf8.count < 2000, "\(lines.joined().utf8.count) bytes of log for 2,000 bad lines")
    }

    @Test func simulateAndStallNeedTheSimulateFlag() throws {
        let gate = Gate()
        _ = try gate.resident(card: "04A1B2C3")
        // No gpio section: the relay is simulated, but the daemon was not started with --simulate.
        try gate.start(config: #"{"doors": [{"name": "main"}]}"#, simulate: false)
        for arguments in [["card", "--uid", "04A1B2C3"], ["stall", "5"], ["rex"], ["keys", "1#"]] {
            let result = gate.run(["simulate"] + arguments)
            #expect(result.status != 0, "simulate \(arguments) was accepted")
            #expect(result.stderr.contains("start it with --simulate"), "\(result.stderr)")
        }
        #expect(try gate.events().isEmpty, "nothing was injected")
        let open = gate.run(["door", "open"])
        #expect(open.succeeded, "\(open.stderr)")
        #expect(try gate.status().simulated, "the relay itself is simulated")
    }

    // MARK: Control socket (issue 9)

    @Test func idleAndSlowClientsCannotStarveStatus() throws {
        let gate = Gate()
        try gate.start()
        var held: [RawControlConnection] = []
        for index in 0..<40 {
            let client = try RawControlConnection(gate.socket)
            if index % 4 == 0 { client.write(Array("{\"comm".utf8)) }  // slow: half a request, then nothing
            held.append(client)
        }
        usleep(300_000)
        for _ in 0..<5 {
            let started = Date()
            let status = gate.run(["status"])
            #expect(status.succeeded, "\(status.stderr)")
            #expect(Date().timeIntervalSince(started) < 3)
            let open = gate.run(["door", "open", "--note", "starved?"])
            #expect(open.succeeded, "\(open.stderr)")
            usleep(250_000)
        }
        // One user holds at most 8 connections: the oldest idle ones were told why they were closed.
        let replaced = held.prefix(8).filter { client in
            var client = client
            return client.readLines(1, within: 0.5).first?.contains("sent no complete request while others were waiting") == true
        }
        #expect(replaced.count >= 1)
        for var client in held { client.close() }
        #expect(gate.daemon?.isRunning == true)
    }

    @Test func aRequestMustArriveWholeWithinTheDeadline() throws {
        let gate = Gate()
        try gate.start()
        var slow = try RawControlConnection(gate.socket)
        let started = Date()
        var answer: String?
        // One byte every 400 ms: each read succeeds, but the request never completes.
        for byte in Array(String(repeating: "{\"command\": \"status\" ", count: 3).utf8) {
            slow.write([byte])
            if let line = slow.readLines(1, within: 0.4).first {
                answer = line
                break
            }
            if Date().timeIntervalSince(started) > 20 { break }
        }
        let took = Date().timeIntervalSince(started)
        #expect(answer?.contains("no complete request within 10") == true, "\(answer ?? "no answer")")
        #expect(took > 9 && took < 13, "closed after \(took) s")
        slow.close()
        #expect(try gate.status().doors.count == 1)
    }

    @Test func aSocketPathNamingARegularFileIsNeverDeleted() throws {
        let gate = Gate()
        let precious = "\(gate.directory)-precious.txt"
        try "keep me\n".write(toFile: precious, atomically: true, encoding: .utf8)
        let config = "\(gate.directory)-socket.json"
        try #"{"control": {"socketPath": "\#(precious)"}}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try refusedStart(["--state-dir", gate.directory, "--simulate", "--config", config])
        let stderr = daemon.stderr
        #expect(daemon.status == 69, "exit \(daemon.status): \(stderr)")
        #expect(stderr.contains("exists and is not a socket"), "\(stderr)")
        #expect((try? String(contentsOfFile: precious, encoding: .utf8)) == "keep me\n", "the file is untouched")
    }
}

/// A raw control-socket client for tests that misbehave on purpose.
struct RawControlConnection {
    var fd: Int32
    private var buffer: [UInt8] = []

    init(_ path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = unixAddress(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw HarnessError("connect \(path) failed")
        }
    }

    func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// Up to `count` complete lines, waiting at most `seconds` in all (fewer when the peer closes).
    mutating func readLines(_ count: Int, within seconds: Double) -> [String] {
        var lines: [String] = []
        let deadline = Date().addingTimeInterval(seconds)
        var chunk = [UInt8](repeating: 0, count: 65536)
        while lines.count < count {
            while lines.count < count, let newline = buffer.firstIndex(of: 0x0A) {
                lines.append(String(decoding: buffer[..<newline], as: UTF8.self))
                buffer.removeSubrange(...newline)
            }
            if lines.count >= count { break }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(remaining * 1000) + 1) > 0 else { break }
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { break }
            buffer += chunk[..<received]
        }
        return lines
    }

    mutating func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
