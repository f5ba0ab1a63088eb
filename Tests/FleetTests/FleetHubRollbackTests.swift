import Foundation
import Testing

/// Issue 11: a hub restored from an older backup (docs/fleet.md, "Backup and restore"). A real hub is dumped with
/// `pg_dump`, changed (a card revoked, a resident added), then dropped and restored from the dump with
/// `pg_restore`, under three running `optgated` gates.
@Suite(.enabled(if: Fleet.enabled, "set OPTGATE_FLEET=1 (scripts/fleet-test)"), .serialized)
struct FleetHubRollbackTests {
    @Test func aHubRestoredFromAnOlderBackupIsHeldUntilTheManagerResyncsTheGate() async throws {
        let (cluster, gates) = try FleetEndToEndTests.fleet()
        let g1 = gates[0]
        let kept = cluster.cli(["resident", "add", "--name", "Li Wei", "--unit", "1-101"]).line
        try #require(cluster.cli(["card", "add", kept, "--uid", "04A1B2C3"]).succeeded)
        for gate in gates { try #require(eventually(within: 5) { gate.card("04A1B2C3") == "granted" }) }
        let backupSeq = try #require(Int64(cluster.psql("SELECT max(seq) FROM change").line))

        // The backup: taken now, while the gates run.
        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("og-hub-\(UUID().uuidString.prefix(6)).dump").path
        defer { unlink(dump) }
        let dumped = cluster.tool("pg_dump", ["-Fc", "-d", "optgate", "-f", dump])
        try #require(dumped.succeeded, "\(dumped.stderr)")

        // After the backup: a resident added with a card, and the first card revoked; the gates apply both.
        let added = cluster.cli(["resident", "add", "--name", "Wang Fang", "--unit", "2-202"]).line
        try #require(cluster.cli(["card", "add", added, "--uid", "0BADCAFE"]).succeeded)
        try #require(cluster.cli(["card", "remove", kept, "--uid", "04A1B2C3"]).succeeded)
        for gate in gates {
            try #require(eventually(within: 5) { gate.card("04A1B2C3") == "denied" && gate.card("0BADCAFE") == "granted" })
        }
        let applied = try #require(Int64(cluster.psql("SELECT max(seq) FROM change").line))
        try #require(applied > backupSeq)

        // The hub is restored from the backup: dropped, created again, the dump restored.
        let dropped = cluster.tool("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres",
                                            "-c", "DROP DATABASE optgate WITH (FORCE)", "-c", "CREATE DATABASE optgate"])
        try #require(dropped.succeeded, "\(dropped.stderr)")
        let restored = cluster.tool("pg_restore", ["--exit-on-error", "-d", "optgate", dump])
        try #require(restored.succeeded, "\(restored.stderr)")
        #expect(Int64(cluster.psql("SELECT max(seq) FROM change").line) == backupSeq)

        // Every gate sees the hub behind what it applied, holds, and keeps deciding from its replica.
        for gate in gates {
            #expect(eventually(within: 15) { gate.fleetState() == "hubRolledBack" }, "\(gate.name) shows hubRolledBack")
        }
        #expect(g1.card("04A1B2C3") == "denied", "the revocation made after the backup stays in force at the gate")
        #expect(g1.card("0BADCAFE") == "granted", "the replica is not touched while holding")
        // One alarm per gate, here and at the hub, after several syncs (poll 1 s) and a restart of the gate.
        try g1.terminate()
        try g1.launch()
        #expect(eventually(within: 10) { g1.fleetState() == "hubRolledBack" }, "still holding after a restart")
        sleep(3)
        #expect(g1.run(["audit", "list"]).stdout.components(separatedBy: "fleet.hubRolledBack").count - 1 == 1, "one local alarm")
        #expect(cluster.psql("""
            SELECT count(*) FROM fleet_alarm f JOIN gate g ON g.id = f.gate_id
            WHERE g.name = 'g1' AND kind = 'hubRolledBack' AND gate_seq = \(applied) AND hub_seq = \(backupSeq)
            """).line == "1")
        #expect(cluster.psql("SELECT count(*) FROM fleet_alarm WHERE kind = 'hubRolledBack'").line == "3", "one per gate")
        // The events the restored hub lost are pushed again (the alarm itself among them).
        #expect(eventually(within: 5) {
            cluster.psql("SELECT count(*) FROM event e JOIN gate g ON g.id = e.gate_id WHERE g.name = 'g1' AND e.action = 'fleet.hubRolledBack'").line == "1"
        })

        // The manager sees which gates hold, and why.
        let list = cluster.cli(["gate", "list"])
        try #require(list.succeeded, "\(list.stderr)")
        #expect(list.stdout.split(separator: "\n").filter { $0.contains("HELD: hub rolled back to \(backupSeq) after the gate applied \(applied)") }.count == 3,
                "\(list.stdout)")

        let unknown = cluster.cli(["gate", "resync", "nosuch"])
        #expect(!unknown.succeeded && unknown.stderr.contains("nosuch"), "an unknown gate is a clear error: \(unknown.stderr)")

        // The manager acknowledges for g1: it re-syncs from zero and converges to the restored hub.
        let resync = cluster.cli(["gate", "resync", "g1"])
        try #require(resync.succeeded, "\(resync.stderr)")
        #expect(eventually(within: 10) { g1.fleetState() == "synced" }, "g1 synced after the re-sync")
        #expect(g1.card("04A1B2C3") == "granted", "the restored hub's card")
        #expect(g1.card("0BADCAFE") == "denied", "the resident the restored hub does not have is gone")
        #expect(!g1.run(["resident", "list"]).stdout.contains(added))
        #expect(cluster.psql("SELECT applied_seq FROM gate_sync s JOIN gate g ON g.id = s.gate_id WHERE g.name = 'g1'").line == "\(backupSeq)")
        #expect(cluster.psql("SELECT done_seq FROM gate_resync").line == "\(backupSeq)")
        // g2 and g3 were not acknowledged: they still hold.
        #expect(gates[1].fleetState() == "hubRolledBack")
        #expect(gates[1].card("04A1B2C3") == "denied")
        let after = cluster.cli(["gate", "list"]).stdout.split(separator: "\n")
        #expect(after.first { $0.contains(" g1 ") }?.contains("HELD") == false, "g1 no longer held: \(after)")
        #expect(after.first { $0.contains(" g2 ") }?.contains("HELD") == true, "\(after)")

        // From there g1 pulls as before: the revocation re-done at the hub reaches it (its sequence reuses numbers
        // the gate had applied before the restore, which only a re-sync from zero makes safe).
        try #require(cluster.cli(["card", "remove", kept, "--uid", "04A1B2C3"]).succeeded)
        #expect(eventually(within: 5) { g1.card("04A1B2C3") == "denied" }, "a change after the re-sync reaches g1")
        #expect(g1.fleetState() == "synced")
    }
}

extension PostgresCluster {
    /// A PostgreSQL client program (`pg_dump`, `pg_restore`, `psql`) as the manager, against this cluster.
    func tool(_ name: String, _ arguments: [String]) -> CommandResult {
        execute("/usr/bin/\(name)", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "optgate_admin"] + arguments,
                environment: ["PGCONNECT_TIMEOUT": "5"])
    }
}
