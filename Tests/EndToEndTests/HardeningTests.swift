import Foundation
import GateControl
import GateCore
import GateServices
import Testing

/// Issue 9, process and file hygiene, attribution, output escaping, floods, a full disk and services
/// that end: each against the real daemon and CLI.
@Suite struct HardeningTests {
    // MARK: Process and file hygiene

    /// Every file and directory under `directory` whose mode gives others any access.
    func worldAccessible(under directory: String) throws -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: directory)
        var paths = [directory]
        while let relative = enumerator?.nextObject() as? String { paths.append("\(directory)/\(relative)") }
        for path in paths {
            var info = stat()
            try #require(lstat(path, &info) == 0, "\(path): \(String(cString: strerror(errno)))")
            if info.st_mode & 0o007 != 0 { found.append("\(path) \(String(info.st_mode & 0o777, radix: 8))") }
        }
        return found
    }

    @Test func theDatabaseAndKeyMadeByTheCLIOrTheDaemonAreNotWorldReadable() throws {
        let byCLI = Gate()
        let initialised = byCLI.run(["init"])
        try #require(initialised.succeeded, "\(initialised.stderr)")
        _ = try byCLI.resident(card: "04A1B2C3")
        #expect(FileManager.default.fileExists(atPath: byCLI.databasePath))
        #expect(FileManager.default.fileExists(atPath: "\(byCLI.directory)/keys/master.key"))
        #expect(try worldAccessible(under: byCLI.directory) == [])

        let byDaemon = Gate()
        try byDaemon.start()
        _ = try byDaemon.resident(card: "04A1B2C3")
        #expect(byDaemon.simulate("card", "--uid", "04A1B2C3").hasPrefix("granted"))
        #expect(FileManager.default.fileExists(atPath: "\(byDaemon.databasePath)-wal"))
        #expect(try worldAccessible(under: byDaemon.directory) == [])
    }

    /// As root every /proc/<pid> file is root's anyway, so the daemon runs as `nobody` here: the kernel
    /// gives the /proc files of a non-dumpable process to root (task_dump_owner), those of a dumpable one
    /// to its own user (checked by hand: `setpriv --reuid=65534 sleep 3` has them owned by nobody).
    @Test(.enabled(if: geteuid() == 0, "needs root to start the daemon as another user"))
    func theDaemonCannotDumpCoreOrBeReadByItsOwnUser() throws {
        let gate = Gate()
        try FileManager.default.createDirectory(atPath: gate.directory, withIntermediateDirectories: true)
        try #require(chown(gate.directory, 65534, 65534) == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", Binaries.daemon,
                             "--state-dir", gate.directory, "--simulate"]
        let log = FileHandle(forWritingAtPath: "/dev/null")!
        process.standardError = log
        process.standardOutput = log
        try process.run()
        gate.daemon = process
        defer { gate.stop() }
        try #require(gate.eventually(within: 15) { gate.run(["status"]).succeeded }, "the daemon came up as nobody")
        let pid = process.processIdentifier
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }.map(String.init) ?? ""
        #expect(uidLine.split(whereSeparator: \.isWhitespace).dropFirst().allSatisfy { $0 == "65534" }, "runs as nobody: \(uidLine)")
        // (The /proc/<pid> directory itself keeps the task's owner either way.)
        for entry in ["/environ", "/mem", "/status", "/maps"] {
            var info = stat()
            try #require(stat("/proc/\(pid)\(entry)", &info) == 0)
            #expect(info.st_uid == 0, "/proc/\(pid)\(entry) belongs to uid \(info.st_uid): the daemon is dumpable")
        }
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map(String.init) ?? ""
        #expect(core.split(whereSeparator: \.isWhitespace).dropFirst(4).prefix(2) == ["0", "0"], "\(core)")
    }

    // MARK: Attribution, purge range

    @Test func anOperatorNameIsRecordedBesideTheUnixUserNeverInsteadOfIt() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3")
        #expect(gate.run(["consent", "grant", id, "--notice-version", "1", "--operator", "Wang Li"]).succeeded)
        #expect(gate.run(["consent", "withdraw", id, "--operator", "Zhang San"]).succeeded)
        struct Ledger: Decodable { var action: String; var `operator`: String }
        let ledger = try JSONDecoder().decode([Ledger].self, from: Data(gate.run(["consent", "show", id, "--json"]).stdout.utf8))
        #expect(ledger.map(\.action) == ["grant", "withdraw"])
        #expect(ledger[0].operator.hasPrefix("unix:") && ledger[0].operator.hasSuffix("; staff: Wang Li"), "\(ledger[0].operator)")
        #expect(ledger[1].operator.hasPrefix("unix:") && ledger[1].operator.hasSuffix("; staff: Zhang San"), "\(ledger[1].operator)")
        let audit = gate.run(["audit", "list"]).stdout.split(separator: "\n")
        let grant = audit.first { $0.contains("consent.grant") }.map(String.init) ?? ""
        let withdraw = audit.first { $0.contains("consent.withdraw") }.map(String.init) ?? ""
        #expect(grant.contains("unix:") && grant.contains("staff: Wang Li"), "\(grant)")
        #expect(withdraw.contains("unix:") && withdraw.contains("staff: Zhang San"), "\(withdraw)")
        let hidden = gate.run(["consent", "grant", id, "--notice-version", "1", "--operator", "Wang\nunix:root"])
        #expect(hidden.status != 0 && hidden.stderr.contains("--operator"))
        #expect(gate.run(["audit", "verify"]).stdout.hasPrefix("ok: "))
    }

    @Test(arguments: ["0", "-5", "3651", "100000"])
    func auditPurgeRefusesADayCountOutsideItsRange(days: String) throws {
        let gate = Gate()
        _ = try gate.resident(card: "04A1B2C3")
        let refused = gate.run(["audit", "purge", "--older-than-days=\(days)"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("from 1 to 3650"), "\(refused.stderr)")
        #expect(gate.run(["audit", "purge", "--older-than-days", "30"]).succeeded)
    }

    // MARK: Output escaping

    @Test func namesWithEscapeSequencesAndNewlinesAreShownNotObeyedAndCSVRunsNoFormula() throws {
        let gate = Gate()
        let name = "Evil\u{1B}[2J\u{1B}]0;owned\u{07}\nr999  forged  line\u{202E}"
        let id = try gate.resident(name: name, card: "04A1B2C3")
        func clean(_ output: String) -> Bool {
            !output.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7F || $0.value == 0x202E }
        }
        let list = gate.run(["resident", "list"])
        #expect(list.succeeded && clean(list.stdout), "\(list.stdout.debugDescription)")
        #expect(list.stdout.split(separator: "\n").count == 1, "one resident, one line")
        #expect(list.stdout.contains("Evil\\u{1B}[2J") && list.stdout.contains("\\nr999"))
        let show = gate.run(["resident", "show", id])
        #expect(clean(show.stdout) && show.stdout.split(separator: "\n").count == 10)

        try gate.start(config: #"{"doors": [{"name": "=HYPERLINK(\"http://x\")", "methods": ["card"]}, {"name": "@SUM(A1)"}]}"#)
        #expect(gate.simulate("card", "--uid", "04A1B2C3").hasPrefix("granted"))
        #expect(gate.simulate("card", "--door", "@SUM(A1)", "--uid", "04A1B2C3").hasPrefix("granted"))
        let events = gate.run(["events"])
        #expect(events.succeeded && clean(events.stdout) && events.stdout.split(separator: "\n").count == 2, "\(events.stdout.debugDescription)")
        let csv = gate.run(["events", "--csv"]).stdout.split(separator: "\n").map(String.init)
        try #require(csv.count == 3, "\(csv)")
        #expect(csv[1].contains(",\"'=HYPERLINK(\"\"http://x\"\")\",card,"), "\(csv[1])")
        #expect(csv[2].contains(",'@SUM(A1),card,"), "\(csv[2])")
        for line in csv.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            #expect(!fields.contains { $0.first.map { "=+-@".contains($0) } ?? false }, "\(line)")
        }
        let status = gate.run(["status"])
        #expect(status.stdout.contains("door =HYPERLINK"))
    }

    // MARK: Floods

    /// One `simulate card` request over the control socket, as `optgate simulate card` sends it.
    func present(_ uid: String, at socket: String) throws -> ControlResponse {
        try ControlClient(path: socket).send(ControlRequest(command: .simulate, input: .card(uid: uid)))
    }

    func sqlite(_ path: String, _ sql: String) throws -> String {
        let result = Gate.execute("/usr/bin/sqlite3", [path, sql])
        try #require(result.succeeded, "\(result.stderr)")
        return result.stdout
    }

    @Test func aFloodOfUnknownCardsWritesABoundedAuditLogAndKeepsTheCount() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3")
        try gate.start()
        let flood = 3000
        var denied = 0
        let started = Date()
        for index in 0..<flood {
            let response = try present(String(format: "DEAD%06X", index), at: gate.socket)
            if response.decision?.reason == .unknownCard { denied += 1 }
            if index == flood / 2 {
                #expect(gate.simulate("card", "--uid", "04A1B2C3") == "granted (valid) resident \(id)", "a resident gets in during the flood")
            }
        }
        for index in 0..<20 { _ = gate.simulate("card", "--uid", String(format: "BEEF%04X", index)) }
        let seconds = Date().timeIntervalSince(started)
        #expect(denied == flood, "every unknown card is still decided and denied")
        #expect(gate.stop() == 0)

        let rows = try sqlite(gate.databasePath, "SELECT action || '|' || coalesce(detail, '') FROM auditEntry WHERE reason = 'unknownCard'")
            .split(separator: "\n")
        let individual = rows.filter { $0.hasPrefix("access.card|") }.count
        let collapsed = rows.filter { $0.hasPrefix("access.denied.collapsed|") }
        let counted = try collapsed.map { row -> Int in
            let detail = try JSONDecoder().decode([String: String].self, from: Data(row.split(separator: "|", maxSplits: 1)[1].utf8))
            return Int(detail["count"] ?? "") ?? 0
        }.reduce(0, +)
        let windows = Int(seconds / 60) + 2
        #expect(individual <= 20 * windows, "\(individual) individual rows for \(flood + 20) denials in \(seconds) s")
        #expect(collapsed.count <= windows)
        #expect(individual + counted == flood + 20, "the collapsed entries keep the count: \(individual) + \(counted)")
        #expect(gate.run(["audit", "verify"]).stdout.hasPrefix("ok: "))
        struct Counted: Decodable { var reason: String?; var count: Int }
        let events = try JSONDecoder().decode([Counted].self, from: Data(gate.run(["events", "--json"]).stdout.utf8))
            .filter { $0.reason == "unknownCard" }
        #expect(events.count == individual + collapsed.count)
        #expect(events.map(\.count).reduce(0, +) == flood + 20, "optgate events --json counts every denial")
        let table = gate.run(["events"]).stdout
        #expect(table.contains("×\(counted) (collapsed)") || collapsed.count > 1, "\(table.suffix(300))")
    }

    /// The state directory on a 4 MiB tmpfs that a filler file then fills to the last byte.
    @Test(.enabled(if: geteuid() == 0, "needs root to mount a small tmpfs"))
    func aFullDiskKeepsDecisionsGoingRaisesAnAlarmAndLosesNothingAcknowledged() throws {
        let gate = Gate()
        try FileManager.default.createDirectory(atPath: gate.directory, withIntermediateDirectories: true)
        let mount = Gate.execute("/bin/mount", ["-t", "tmpfs", "-o", "size=4m,mode=0750", "tmpfs", gate.directory])
        guard mount.succeeded else {
            print("skipped: cannot mount a tmpfs here: \(mount.stderr)")
            return
        }
        defer {
            gate.stop()
            _ = Gate.execute("/bin/umount", ["-l", gate.directory])
        }
        let id = try gate.resident(card: "04A1B2C3")
        try gate.start()
        for _ in 0..<3 { #expect(gate.simulate("card", "--uid", "04A1B2C3") == "granted (valid) resident \(id)") }
        let before = try gate.events().count

        let filler = "\(gate.directory)/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: filler))
        let block = Data(count: 64 * 1024)
        while (try? handle.write(contentsOf: block)) != nil {}
        let small = Data(count: 512)
        while (try? handle.write(contentsOf: small)) != nil {}
        try? handle.close()

        var granted = 0
        for _ in 0..<60 where gate.simulate("card", "--uid", "04A1B2C3") == "granted (valid) resident \(id)" { granted += 1 }
        #expect(granted == 60, "decisions go on with the disk full")
        #expect(gate.simulate("card", "--uid", "0BADCAFE") == "denied (unknownCard)")
        let status = try gate.status()
        #expect(status.storage?.state == "failing", "\(String(describing: status.storage))")
        #expect((status.storage?.pendingEntries ?? 0) > 0)
        #expect(gate.run(["status"]).stdout.contains("ALARM audit log not writable"))
        #expect(gate.daemonOutput.contains("could not write the audit log"))

        try FileManager.default.removeItem(atPath: filler)
        #expect(gate.eventually(within: 10) { (try? gate.status().storage?.state) == "ok" }, "writes resume by themselves")
        #expect(gate.stop() == 0)
        let after = try gate.events()
        #expect(after.count == before + 61, "every decision made during the outage is in the log")
        #expect(gate.run(["audit", "verify"]).stdout.hasPrefix("ok: "))
        #expect(try sqlite(gate.databasePath, "SELECT count(*) FROM auditEntry WHERE action = 'audit.resumed'") == "1\n")
    }

    // MARK: A service that ends never ends the daemon

    @Test func aMissingReplayFileLeavesTheDaemonCardAndPinRunning() throws {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3", pin: "975310")
        let models = FaceTests.models
        try gate.start(config: """
            {"doors": [{"name": "main", "methods": ["face", "card", "pin"]}],
             "face": {"modelsDirectory": "\(models)", "source": {"replay": "\(gate.directory)-missing.mjpeg", "fps": 10}}}
            """)
        #expect(gate.eventually(within: 10) {
            (try? gate.status().services?.contains { $0.name == "recognition" && $0.state == "restarting" }) == true
        }, "\(gate.daemonOutput)")
        Thread.sleep(forTimeInterval: 2)
        #expect(gate.daemon?.isRunning == true, "the daemon is still up: \(gate.daemonOutput)")
        let status = try gate.status()
        #expect(status.face.state.rawValue.hasPrefix("disabled: ") && status.face.state.rawValue.contains("missing.mjpeg"), "\(status.face.state)")
        let recognition = status.services?.first { $0.name == "recognition" }
        #expect((recognition?.restarts ?? 0) >= 1 && recognition?.reason?.contains("does not exist") == true)
        #expect(gate.simulate("card", "--uid", "04A1B2C3") == "granted (valid) resident \(id)")
        #expect(gate.simulate("pin", "975310") == "granted (valid) resident \(id)")
        #expect(gate.run(["status"]).stdout.contains("service recognition: restarting"))
        #expect(gate.stop() == 0)
    }
}
