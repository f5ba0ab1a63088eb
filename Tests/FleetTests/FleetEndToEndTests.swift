import Foundation
import GateCore
import GateHub
import Testing

/// A hub and three real `optgated --simulate` gates of one site (docs/fleet.md).
final class FleetGate: @unchecked Sendable {
    let name: String
    let directory: String
    var daemon: Process?
    var log: String { "\(directory)-daemon.log" }

    init(name: String) {
        self.name = name
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("og-fleet-\(name)-\(UUID().uuidString.prefix(6))").path
    }

    deinit {
        if let daemon, daemon.isRunning { kill(daemon.processIdentifier, SIGKILL); daemon.waitUntilExit() }
        for path in [directory, "\(directory).json", "\(directory).credentials", log] { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Joins the hub with the credentials `gate add --json` printed and starts the daemon (through `launcher`,
    /// e.g. `ip netns exec`, when given; `caFile`: the hub's private CA, `fleet.caFile`).
    func start(hub: String, credentials: String, staleAfterSeconds: Double = 300, caFile: String? = nil,
               launcher: [String] = []) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let credentialsPath = "\(directory).credentials"
        if !FileManager.default.fileExists(atPath: credentialsPath) {
            _ = FileManager.default.createFile(atPath: credentialsPath, contents: Data(credentials.utf8), attributes: [.posixPermissions: 0o600])
        }
        let config = """
            {"doors": [{"name": "main", "visitorQR": true}],
             "fleet": {"hub": "\(hub)", "credentialsFile": "\(credentialsPath)", "site": "north", "gate": "\(name)",
                       "staleAfterSeconds": \(staleAfterSeconds), "pollSeconds": 1\(caFile.map { ", \"caFile\": \"\($0)\"" } ?? "")}}
            """
        try config.write(toFile: "\(directory).json", atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        try launch(launcher: launcher)
    }

    /// Starts the daemon with the configuration `start` wrote (again, after a kill), its output appended to `log`;
    /// waits until it answers `status` unless told not to.
    func launch(launcher: [String] = [], wait: Bool = true) throws {
        // A second daemon on the same state would only print "another optgated is already serving" and exit,
        // and a test that meant to restart the gate would go on with the first one still running.
        if let daemon, daemon.isRunning { throw FleetTestError("optgated \(name) is still running: stop it before launching it again") }
        let process = Process()
        let command = launcher + [Binaries.daemon, "--state-dir", directory, "--simulate", "--config", "\(directory).json",
                                  "--log-level", "debug"]
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let handle = FileHandle(forWritingAtPath: log)!
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        try? handle.close()
        daemon = process
        guard wait else { return }
        guard eventually(within: 10, { run(["status"]).succeeded }) else {
            throw FleetTestError("optgated \(name) did not come up: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
    }

    /// SIGKILL, as a power cut or a crash would; reaped.
    func stop() {
        guard let daemon, daemon.isRunning else { return }
        kill(daemon.processIdentifier, SIGKILL)
        daemon.waitUntilExit()
    }

    func run(_ arguments: [String]) -> CommandResult {
        execute(Binaries.cli, ["--state-dir", directory] + arguments)
    }

    /// The decision's result word for a card at the first door.
    func card(_ uid: String) -> String {
        let result = run(["simulate", "card", "--uid", uid])
        return result.succeeded ? String(result.line.prefix { $0 != " " }) : "error: \(result.stderr)"
    }

    /// The `fleet` service's state in `status --json`.
    func fleetState() -> String? {
        let result = run(["status", "--json"])
        guard result.succeeded, let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
              let services = object["services"] as? [[String: Any]]
        else { return nil }
        return services.first { $0["name"] as? String == "fleet" }?["state"] as? String
    }

    /// Access and alarm entries in the gate's own audit log (`audit list`: seq, time, category, action, …).
    func localEventCount() -> Int {
        let result = run(["audit", "list"])
        guard result.succeeded else { return -1 }
        return result.stdout.split(separator: "\n").filter { line in
            let fields = line.components(separatedBy: "  ")
            return fields.count > 2 && (fields[2] == "access" || fields[2] == "alarm")
        }.count
    }
}

extension PostgresCluster {
    /// Each gate's event count at the hub, polled until every gate's equals its own log's (exactly once) or
    /// `seconds` run out; the caller compares.
    func eventCountsOnceDelivered(by gates: [FleetGate], within seconds: Int) async throws -> [String: Int] {
        try await Hub.with(endpoint, logger: Fleet.logger) { hub in
            var counts: [String: Int] = [:]
            let deadline = ContinuousClock.now + .seconds(seconds)
            while ContinuousClock.now < deadline {
                counts = try await hub.eventCounts()
                if gates.allSatisfy({ counts[$0.name] == $0.localEventCount() }) { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            return counts
        }
    }
}

@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct FleetEndToEndTests {
    /// A hub with site north and running gates (three unless told).
    static func fleet(gates names: [String] = ["g1", "g2", "g3"], staleAfterSeconds: Double = 300) throws -> (PostgresCluster, [FleetGate]) {
        let cluster = try PostgresCluster()
        try #require(cluster.cli(["hub", "init"]).succeeded)
        try #require(cluster.cli(["site", "add", "north"]).succeeded)
        var gates: [FleetGate] = []
        for name in names {
            let added = cluster.cli(["gate", "add", name, "--site", "north", "--json"])
            try #require(added.succeeded, "\(added.stderr)")
            let gate = FleetGate(name: name)
            try gate.start(hub: "postgresql://127.0.0.1:\(cluster.port)/optgate", credentials: added.stdout,
                           staleAfterSeconds: staleAfterSeconds)
            gates.append(gate)
        }
        return (cluster, gates)
    }

    @Test func aCardAddedAtTheHubOpensEveryGateAndARemovedOneNone() async throws {
        let (cluster, gates) = try Self.fleet()
        let resident = cluster.cli(["resident", "add", "--name", "Li Wei", "--unit", "1-101"]).line
        for gate in gates { #expect(gate.card("04A1B2C3") == "denied") }

        try #require(cluster.cli(["card", "add", resident, "--uid", "04A1B2C3"]).succeeded)
        for gate in gates {
            #expect(eventually(within: 2) { gate.card("04A1B2C3") == "granted" }, "granted at \(gate.name) within 2 s")
        }
        try #require(cluster.cli(["card", "remove", resident, "--uid", "04A1B2C3"]).succeeded)
        for gate in gates {
            #expect(eventually(within: 2) { gate.card("04A1B2C3") == "denied" }, "denied at \(gate.name) within 2 s")
        }

        // Fan-out: from the hub's commit to all three gates having applied it (replica committed, reported).
        var latencies: [Double] = []
        try await Hub.with(cluster.endpoint, logger: Fleet.logger) { hub in
            let directory = HubDirectory(hub: hub)
            let uid = CardUID("0A0B0C0D")!
            for index in 0..<100 {
                let start = ContinuousClock.now
                if index % 2 == 0 {
                    try await directory.addCard(residentID: resident, uid: uid, operator: "test")
                } else {
                    try await directory.removeCard(residentID: resident, uid: uid, operator: "test")
                }
                let target = try await hub.latestChange()
                while true {
                    let applied = try await hub.appliedSequences()
                    if gates.allSatisfy({ (applied[$0.name] ?? 0) >= target }) { break }
                    if ContinuousClock.now - start > .seconds(5) { break }
                    try await Task.sleep(for: .milliseconds(2))
                }
                latencies.append(Double((ContinuousClock.now - start) / .milliseconds(1)))
            }
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2], p99 = latencies[latencies.count * 99 / 100]
        print("fleet fan-out to 3 gates over \(latencies.count) changes: p50 \(Int(p50)) ms, p99 \(Int(p99)) ms, max \(Int(latencies.last!)) ms")
        #expect(p99 <= 2000, "fan-out p99 \(p99) ms")
        // The last change was a removal: denied everywhere.
        for gate in gates { #expect(gate.card("0A0B0C0D") == "denied") }
    }

    @Test func withTheHubDownGatesKeepDecidingAndTheirEventsArriveExactlyOnce() async throws {
        let (cluster, gates) = try Self.fleet(staleAfterSeconds: 5)
        let resident = cluster.cli(["resident", "add", "--name", "Li Wei", "--unit", "1-101"]).line
        try #require(cluster.cli(["card", "add", resident, "--uid", "04A1B2C3"]).succeeded)
        for gate in gates { try #require(eventually(within: 2) { gate.card("04A1B2C3") == "granted" }) }
        for gate in gates { #expect(eventually(within: 3) { gate.fleetState() == "synced" }) }

        cluster.stop()
        for gate in gates {
            for _ in 0..<3 { #expect(gate.card("04A1B2C3") == "granted", "the replica decides without the hub") }
            #expect(gate.card("0BADCAFE") == "denied")
        }
        for gate in gates {
            #expect(eventually(within: 12, every: 200_000) { gate.fleetState() == "stale" }, "\(gate.name) shows stale")
        }

        try cluster.start()
        let counts = try await cluster.eventCountsOnceDelivered(by: gates, within: 15)
        for gate in gates {
            let local = gate.localEventCount()
            #expect(local >= 5, "4 decisions and the stale alarm at \(gate.name)")
            #expect(counts[gate.name] == local, "\(gate.name): hub \(counts[gate.name] ?? 0), local \(local)")
            #expect(eventually(within: 5) { gate.fleetState() == "synced" })
        }
        let alarms = cluster.psql("SELECT count(*) FROM event WHERE action = 'fleet.stale'").line
        #expect(alarms == "3", "one stale alarm per gate")

        // The manager reads them with the CLI: one gate's, and all.
        let one = cluster.cli(["events", "--json", "--gate", "g1"])
        try #require(one.succeeded, "\(one.stderr)")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(one.stdout.utf8)) as? [[String: Any]])
        #expect(listed.count == counts["g1"] && listed.allSatisfy { $0["gate"] as? String == "g1" })
        let all = cluster.cli(["events", "--json"])
        try #require(all.succeeded, "\(all.stderr)")
        #expect((try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])?.count == counts.values.reduce(0, +))
    }
}
