import Foundation
import GateControl
import Testing

/// Bad input and hard kills: clear errors, never a crash, nothing acknowledged is lost.
@Suite(.serialized) struct RobustnessTests {
    @Test(arguments: [
        ("{ not json", "not valid JSON"),
        (#"["main"]"#, "top level must be a JSON object"),
        (#"{"doorz": []}"#, "configuration key doorz: unknown key"),
        (#"{"doors": [{"name": "main", "relay": {"pulseSeconds": 45}}]}"#, "doors[0].relay.pulseSeconds: 45 is out of range 0.1–30"),
        (#"{"doors": [{"name": "main", "relay": {"pulseSeconds": "3"}}]}"#, "doors[0].relay.pulseSeconds: expected a number"),
        (#"{"doors": [{"name": "main", "methods": ["face"]}]}"#, "face may never be the only way in"),
        (#"{"doors": [{"name": "a"}, {"name": "a"}]}"#, "doors[1].name"),
        (#"{"keypad": {"minDigits": 6, "maxDigits": 5}}"#, "keypad.maxDigits"),
        (#"{"keypad": {"lockoutFailures": true}}"#, "keypad.lockoutFailures: expected a number"),
        (#"{"retention": {"accessEventDays": 0}}"#, "retention.accessEventDays"),
        (#"{"doors": [{"name": "main", "relay": {"polarity": "sideways"}}]}"#, "\"sideways\" is not one of: failSecure, failSafe"),
    ])
    func badConfigurationIsRefusedByName(config: String, message: String) throws {
        let gate = Gate()
        let (check, path) = try gate.checkConfig(config)
        #expect(check.status == 1)
        #expect(check.stdout.contains(message), "\(check.stdout)")
        let daemon = Gate.execute(Binaries.daemon, ["--state-dir", gate.directory, "--config", path])
        #expect(daemon.status == 78)
        #expect(daemon.stderr.contains(message), "\(daemon.stderr)")
    }

    @Test func aValidConfigurationPasses() throws {
        let gate = Gate()
        let path = "\(gate.directory)-good.json"
        try #"{"doors": [{"name": "main", "methods": ["face", "card"]}, {"name": "garage", "methods": ["card"]}]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(Gate.execute(Binaries.cli, ["config", "check", path]).stdout == "ok: 2 door(s): main, garage\n"
                + "face liveness at door main: geometry (head shape across frames; a video of the resident defeats it)\n")
    }

    @Test func garbageOnTheControlSocketIsAnsweredAndTheDaemonKeepsServing() throws {
        let gate = Gate()
        try gate.start()
        let garbage: [[UInt8]] = [
            Array("hello\n".utf8),
            Array("{\"command\": \"explode\"}\n".utf8),
            Array("{\"command\": \"simulate\", \"input\": {\"card\": {\"uid\": 7}}}\n".utf8),
            [0xff, 0xfe, 0x00, 0x01, 0x0a],
            Array(repeating: UInt8(ascii: "x"), count: 40_000),
        ]
        for payload in garbage {
            let reply = try exchange(gate.socket, payload)
            #expect(reply.contains("\"ok\":false"), "\(reply)")
        }
        // A client that connects and says nothing, and one that hangs up mid-line.
        let idle = try connect(gate.socket)
        let partial = try connect(gate.socket)
        _ = Array("{\"comm".utf8).withUnsafeBytes { write(partial, $0.baseAddress, $0.count) }
        close(partial)
        #expect(try gate.status().doors.count == 1)
        close(idle)
        #expect(gate.daemon?.isRunning == true)
    }

    @Test func auditTamperingWithTheSqliteToolIsNamed() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3")
        try gate.start()
        for _ in 0..<3 { _ = gate.simulate("card", "--uid", "04A1B2C3") }
        gate.stop()
        #expect(gate.run(["audit", "verify"]).succeeded)
        let seq = try #require(Int(try sqlite(gate.databasePath, "SELECT max(seq) FROM auditEntry WHERE action = 'access.card'")))
        _ = try sqlite(gate.databasePath, """
            DROP TRIGGER auditEntry_only_redaction;
            UPDATE auditEntry SET result = 'denied' WHERE seq = \(seq);
            """)
        let verify = gate.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("entry \(seq)"), "\(verify.stdout)")
        _ = id
    }

    /// SIGKILL the daemon and the CLI at random points while both write, then check the database.
    @Test func hardKillsLoseNothingAcknowledged() throws {
        let gate = Gate()
        let residents = try (0..<3).map { try gate.resident(name: "Resident \($0)", card: String(format: "04A1B2C3%02X", $0)) }
        var acknowledged: [String: [Int]] = [:]   // resident → consent ledger ids the CLI reported
        var kills = 0
        var generator = SystemRandomNumberGenerator()
        for round in 0..<50 {
            try gate.start()
            var writers: [(Process, Pipe, String)] = []
            for (index, id) in residents.enumerated() {
                let granted = (round + index) % 2 == 0
                let arguments = granted
                    ? ["consent", "grant", id, "--notice-version", "1"] : ["consent", "withdraw", id]
                writers.append(try spawn(Binaries.cli, ["--state-dir", gate.directory] + arguments, id))
            }
            writers.append(try spawn(Binaries.cli, ["--state-dir", gate.directory, "simulate", "card", "--uid", "04A1B2C300"], ""))
            writers.append(try spawn(Binaries.cli, ["--state-dir", gate.directory, "resident", "add", "--name", "N\(round)", "--unit", "1"], ""))
            usleep(UInt32.random(in: 0...120_000, using: &generator))
            if let daemon = gate.daemon { kill(daemon.processIdentifier, SIGKILL); kills += 1 }
            for (process, _, _) in writers where Bool.random(using: &generator) && process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                kills += 1
            }
            for (process, pipe, id) in writers {
                process.waitUntilExit()
                let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                guard process.terminationReason == .exit, process.terminationStatus == 0, !id.isEmpty else { continue }
                if let ledgerID = ledgerID(in: output) { acknowledged[id, default: []].append(ledgerID) }
            }
            gate.daemon?.waitUntilExit()
            gate.daemon = nil
        }
        #expect(kills >= 50)
        #expect(try sqlite(gate.databasePath, "PRAGMA integrity_check") == "ok")
        let verify = gate.run(["audit", "verify"])
        #expect(verify.succeeded, "\(verify.stdout)")
        var total = 0
        for (id, ledgerIDs) in acknowledged {
            let history = gate.run(["consent", "show", id, "--json"])
            let records = try JSONDecoder().decode([LedgerRow].self, from: Data(history.stdout.utf8))
            let stored = Set(records.map(\.id))
            for ledgerID in ledgerIDs {
                #expect(stored.contains(ledgerID), "acknowledged consent change \(ledgerID) of \(id) was lost")
            }
            total += ledgerIDs.count
            // The ledger alternates: never two grants or two withdrawals in a row.
            for (previous, next) in zip(records, records.dropFirst()) { #expect(previous.action != next.action) }
        }
        #expect(total > 10, "enough consent changes were acknowledged to make the check meaningful")
    }

    struct LedgerRow: Decodable {
        var id: Int
        var action: String
    }

    func ledgerID(in output: String) -> Int? {
        // "consent 12 granted by …" or "consent withdrawn by … (ledger entry 13); …"
        let words = output.split(whereSeparator: { $0 == " " || $0 == ")" || $0 == ";" })
        if words.count > 1, words[0] == "consent", let id = Int(words[1]) { return id }
        if let index = words.firstIndex(of: "entry"), index + 1 < words.count { return Int(words[index + 1]) }
        return nil
    }

    func spawn(_ executable: String, _ arguments: [String], _ tag: String) throws -> (Process, Pipe, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, pipe, tag)
    }

    func sqlite(_ path: String, _ sql: String) throws -> String {
        let result = Gate.execute("/usr/bin/sqlite3", [path, sql])
        try #require(result.succeeded, "sqlite3: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = unixAddress(path)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw HarnessError("connect failed") }
        return fd
    }

    func exchange(_ path: String, _ payload: [UInt8]) throws -> String {
        let fd = try connect(path)
        defer { close(fd) }
        _ = payload.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !reply.contains(UInt8(ascii: "\n")) {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            reply += chunk[..<count]
        }
        return String(decoding: reply, as: UTF8.self)
    }
}
