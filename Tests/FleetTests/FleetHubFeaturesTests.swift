import Foundation
import GateCore
import GateHub
import GateStore
import Testing

/// Issue 11's remaining hub features, each against a real hub and real `optgated` gates: resident updates
/// through the hub, audit heads witnessed by the hub, a hub restored to an older sequence, deletion receipts
/// that survive a gate killed before sending them (docs/fleet.md).
@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct FleetHubFeaturesTests {
    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    @Test func aMoveOutSetAtTheHubStopsTheCardAtEveryGate() async throws {
        let (cluster, gates) = try FleetEndToEndTests.fleet()
        let resident = cluster.cli(["resident", "add", "--name", "Li Wei", "--unit", "1-101"]).line
        try #require(cluster.cli(["card", "add", resident, "--uid", "04A1B2C3"]).succeeded)
        for gate in gates { try #require(eventually(within: 2) { gate.card("04A1B2C3") == "granted" }) }

        // Not replicated yet: refused with a sentence, nothing changed.
        let grouped = cluster.cli(["resident", "update", resident, "--group", "staff"])
        #expect(!grouped.succeeded && grouped.stderr.contains("not replicated"))

        // Moved out a minute ago, and to another unit: every gate applies it and denies the card.
        let updated = cluster.cli(["resident", "update", resident, "--unit", "2-202", "--valid-until", Self.iso(Date().addingTimeInterval(-60))])
        try #require(updated.succeeded, "\(updated.stderr)")
        for gate in gates {
            #expect(eventually(within: 2) { gate.card("04A1B2C3") == "denied" }, "denied at \(gate.name) after the move-out")
            #expect(gate.run(["resident", "show", resident]).stdout.contains("2-202"), "unit replicated to \(gate.name)")
        }

        // Move-out cleared again at the hub: granted again everywhere.
        try #require(cluster.cli(["resident", "update", resident, "--valid-until", "none"]).succeeded)
        for gate in gates {
            #expect(eventually(within: 2) { gate.card("04A1B2C3") == "granted" }, "granted again at \(gate.name)")
        }
        // The hub lists the new unit.
        #expect(cluster.cli(["resident", "list"]).stdout.contains("2-202"))
    }

    @Test func theHubWitnessesEachGatesAuditHeadAndSeesALogRestoredFromAnOlderCopy() async throws {
        let (cluster, gates) = try FleetEndToEndTests.fleet()
        let hub = "postgresql://127.0.0.1:\(cluster.port)/optgate"
        let gate = gates[0]
        // Every gate's head reaches the hub.
        for each in gates {
            #expect(eventually(within: 5) { cluster.witnessedSeq(each.name) ?? -1 >= 1 }, "\(each.name)'s head at the hub")
        }

        // A copy of g1's whole state directory (database and anchor file), taken while it is stopped.
        try gate.terminate()
        let backup = gate.directory + ".older"
        defer { try? FileManager.default.removeItem(atPath: backup) }
        try FileManager.default.copyItem(atPath: gate.directory, toPath: backup)
        try gate.start(hub: hub, credentials: "")
        for _ in 0..<3 { #expect(gate.card("0BADCAFE") == "denied") }
        let newest = try #require(gate.localHeadSeq())
        #expect(eventually(within: 5) { cluster.witnessedSeq("g1") ?? -1 >= newest }, "the hub witnesses entry \(newest)")

        // The box is put back to the older copy, anchor file and all: on its own it sees nothing wrong…
        try gate.terminate()
        try FileManager.default.removeItem(atPath: gate.directory)
        try FileManager.default.copyItem(atPath: backup, toPath: gate.directory)
        #expect(gate.run(["audit", "verify"]).succeeded, "the restored copy is consistent in itself")
        #expect(try #require(gate.localHeadSeq()) < newest)
        // …but the hub's witness does.
        try gate.start(hub: hub, credentials: "")
        #expect(eventually(within: 5) { gate.fleetState() == "auditDiverged" }, "g1 shows auditDiverged")
        #expect(eventually(within: 3) { gate.run(["audit", "list"]).stdout.contains("fleet.auditDiverged") }, "alarm in g1's log")
        let heads = cluster.cli(["audit", "heads"])
        try #require(heads.succeeded, "\(heads.stderr)")
        let lines = heads.stdout.split(separator: "\n")
        #expect(lines.first { $0.contains(" g1 ") }?.contains("DIVERGED") == true, "\(heads.stdout)")
        #expect(lines.first { $0.contains(" g2 ") }?.contains("DIVERGED") == false, "\(heads.stdout)")
        #expect(cluster.psql("SELECT count(*) FROM fleet_alarm f JOIN gate g ON g.id = f.gate_id WHERE g.name = 'g1' AND kind = 'auditDiverged'").line == "1")
        // The witness did not go back with the box, and cannot be made to.
        #expect(cluster.witnessedSeq("g1") ?? -1 >= newest)
        let role = cluster.psql("SELECT role FROM gate WHERE name = 'g1'").line
        #expect(!cluster.psql("UPDATE audit_head SET seq = 1 WHERE gate_id = (SELECT id FROM gate WHERE role = '\(role)')").succeeded)

        // The manager looks into it and accepts the box's log as it is: witnessed again from there.
        #expect(cluster.cli(["audit", "heads", "--accept", "g1"]).succeeded)
        #expect(eventually(within: 5) { gate.fleetState() == "synced" }, "g1 back to synced")
        #expect(eventually(within: 5) { cluster.witnessedSeq("g1") != nil })
        #expect(cluster.cli(["audit", "heads"]).stdout.split(separator: "\n").first { $0.contains(" g1 ") }?.contains("DIVERGED") == false)
    }
}

extension PostgresCluster {
    /// The audit head the hub witnessed for `gate`.
    func witnessedSeq(_ gate: String) -> Int64? {
        Int64(psql("SELECT h.seq FROM audit_head h JOIN gate g ON g.id = h.gate_id WHERE g.name = '\(gate)'").line)
    }
}

extension FleetGate {
    /// Stops the daemon (SIGTERM) and waits for it.
    func terminate() throws {
        guard let daemon, daemon.isRunning else { return }
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        self.daemon = nil
    }

    /// The seq of the gate's own audit head (`audit head --json`).
    func localHeadSeq() -> Int64? {
        let result = run(["audit", "head", "--json"])
        guard result.succeeded, let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else { return nil }
        return (object["seq"] as? NSNumber)?.int64Value
    }
}

/// Deletion receipts written in the batch's own transaction (an outbox) and sent until the hub has them.
@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct DeletionReceiptOutboxTests {
    @Test func aGateKilledAfterTheBatchCommitStillDeliversItsReceipt() async throws {
        let cluster = try PostgresCluster()
        try #require(cluster.cli(["hub", "init"]).succeeded)
        try #require(cluster.cli(["site", "add", "north"]).succeeded)
        let added = cluster.cli(["gate", "add", "g1", "--site", "north", "--json"])
        try #require(added.succeeded, "\(added.stderr)")
        let credentials = try JSONDecoder().decode(GateCredentials.self, from: Data(added.stdout.utf8))
        let resident = cluster.cli(["resident", "add", "--name", "Li Wei", "--unit", "1-101"]).line
        let gate = FleetGate(name: "g1")
        try FileManager.default.createDirectory(atPath: gate.directory, withIntermediateDirectories: true)

        // The gate's sync, by hand up to the point where it used to die: the resident arrives, then the erasure
        // batch commits locally, and the process is gone before any receipt is sent.
        let gateEndpoint = try credentials.endpoint()
        do {
            let database = try GateDatabase(stateDirectory: gate.directory)
            try await Hub.with(gateEndpoint, logger: Fleet.logger) { hub in
                let first = try #require(try await hub.pull(after: 0))
                #expect(try database.applyReplica(first).isEmpty)
                try #require(cluster.cli(["resident", "erase", resident]).succeeded)
                let second = try #require(try await hub.pull(after: first.lastSeq))
                let deletions = try database.applyReplica(second)
                #expect(deletions.count == 1)
            }
            let erasure = try #require(try await hubLatest(cluster))
            #expect(try database.pendingDeletionReceipts().map(\.changeSeq) == [erasure])
        }
        #expect(cluster.psql("SELECT count(*) FROM deletion_receipt").line == "0")

        // The daemon starts on that state: nothing new to pull, but the receipt still owed is sent, once.
        try gate.start(hub: "postgresql://127.0.0.1:\(cluster.port)/optgate", credentials: added.stdout)
        #expect(eventually(within: 5) { cluster.psql("SELECT count(*) FROM deletion_receipt").line == "1" }, "receipt delivered")
        // Sent again (a lost acknowledgement): still one row.
        try await Hub.with(gateEndpoint, logger: Fleet.logger) { hub in
            let seq = try await hubLatest(cluster)!
            try await hub.writeDeletionReceipt(changeSeq: seq, templatesDeleted: 0)
        }
        #expect(cluster.psql("SELECT count(*) FROM deletion_receipt").line == "1")
    }

    func hubLatest(_ cluster: PostgresCluster) async throws -> Int64? {
        Int64(cluster.psql("SELECT max(seq) FROM change WHERE kind = 'erase'").line)
    }
}
