import Foundation
import Testing

/// The attacks on the audit log's end from the security review (issue 9), against the real daemon and
/// CLI with the `sqlite3` tool and file copies, and the journal's content.
@Suite(.serialized) struct AuditEvidenceTests {
    /// A gate with one resident whose card was granted `grants` times; the daemon is stopped again.
    func gateWithEvents(grants: Int = 5) throws -> (gate: Gate, resident: String) {
        let gate = Gate()
        let id = try gate.resident(card: "04A1B2C3")
        try gate.start()
        for _ in 0..<grants { #expect(gate.simulate("card", "--uid", "04A1B2C3").contains("granted")) }
        gate.stop()
        let verify = gate.run(["audit", "verify"])
        try #require(verify.succeeded, "\(verify.stdout)")
        return (gate, id)
    }

    func sqlite(_ path: String, _ sql: String) throws -> String {
        let result = Gate.execute("/usr/bin/sqlite3", [path, sql])
        try #require(result.succeeded, "sqlite3: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func lastSeq(_ gate: Gate) throws -> Int { try #require(Int(try sqlite(gate.databasePath, "SELECT max(seq) FROM auditEntry"))) }

    struct Report: Decodable {
        struct Finding: Decodable {
            var kind: String
            var seq: Int
            var lastSeq: Int?
            var since: String?
            var message: String
        }
        struct Head: Decodable { var seq: Int; var hash: String; var time: String; var timeMs: Int; var mac: String }
        var ok: Bool
        var entries: Int
        var head: Head?
        var anchor: Head?
        var anchorPath: String
        var findings: [Finding]
    }

    /// `audit verify --json`, which must exit 1 when it reports findings.
    func report(_ gate: Gate, witness: String? = nil) throws -> Report {
        let result = gate.run(["audit", "verify", "--json"] + (witness.map { ["--witness", $0] } ?? []))
        let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
        #expect(result.status == (report.ok ? 0 : 1))
        return report
    }

    @Test func truncatingTheTailIsNamed() throws {
        let (gate, _) = try gateWithEvents()
        let last = try lastSeq(gate)
        // Cut the last three entries and point the head record at the new last one, so the database agrees with itself.
        _ = try sqlite(gate.databasePath, """
            DROP TRIGGER auditEntry_no_delete; DELETE FROM auditEntry WHERE seq > \(last - 3);
            UPDATE auditHead SET seq = \(last - 3), hash = (SELECT hash FROM auditEntry WHERE seq = \(last - 3));
            """)
        let verify = gate.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("tailTruncated: entries \(last - 2)–\(last) are missing from the end of the log since the last anchor at"),
                "\(verify.stdout)")
        let found = try report(gate)
        #expect(found.findings.map(\.kind) == ["headForged", "tailTruncated"])
        #expect(found.findings.last?.seq == last - 2 && found.findings.last?.lastSeq == last && found.findings.last?.since != nil)
    }

    @Test func wipingTheLogIsNamed() throws {
        let (gate, _) = try gateWithEvents()
        _ = try sqlite(gate.databasePath, "DROP TRIGGER auditEntry_no_delete; DELETE FROM auditEntry; DELETE FROM auditHead")
        let verify = gate.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("logWiped: the audit log was wiped"), "\(verify.stdout)")
    }

    @Test func deletingTheHeadIsNamed() throws {
        let (gate, _) = try gateWithEvents()
        _ = try sqlite(gate.databasePath, "DELETE FROM auditHead")
        let verify = gate.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("headMissing: the audit head record is missing"), "\(verify.stdout)")
    }

    @Test func rollingTheDatabaseFileBackToAnOlderCopyIsNamed() throws {
        let (gate, _) = try gateWithEvents(grants: 2)
        let copy = "\(gate.directory)-old.sqlite"
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: gate.databasePath + suffix) {
            try FileManager.default.copyItem(atPath: gate.databasePath + suffix, toPath: copy + suffix)
        }
        let oldSeq = try lastSeq(gate)
        try gate.start()
        for _ in 0..<3 { _ = gate.simulate("card", "--uid", "04A1B2C3") }
        gate.stop()
        let newSeq = try lastSeq(gate)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: gate.databasePath + suffix) }
        try FileManager.default.removeItem(atPath: gate.databasePath)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: copy + suffix) {
            try FileManager.default.copyItem(atPath: copy + suffix, toPath: gate.databasePath + suffix)
        }

        let verify = gate.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("databaseRolledBack: the database was rolled back to an older copy: it ends at entry \(oldSeq)"),
                "\(verify.stdout)")
        #expect(try report(gate).findings.first?.lastSeq == newSeq)

        // The daemon runs on the old copy (doors keep working), says so, and the rollback stays named.
        try gate.start()
        #expect(gate.simulate("card", "--uid", "04A1B2C3").contains("granted"))
        gate.stop()
        #expect(gate.daemonOutput.contains("audit anchor not advanced"))
        #expect(try report(gate).findings.map(\.kind) == ["databaseRolledBack"])

        // An administrator who restored on purpose says so; that is recorded and the log verifies again.
        let reanchor = gate.run(["audit", "reanchor", "--reason", "restored the backup"])
        #expect(reanchor.succeeded, "\(reanchor.stderr)")
        #expect(gate.run(["audit", "verify"]).succeeded)
        #expect(gate.run(["audit", "list", "--limit", "1"]).stdout.contains("audit.reanchor"))
    }

    @Test func deletingTheAnchorFileIsNamed() throws {
        let (gate, _) = try gateWithEvents(grants: 1)
        try FileManager.default.removeItem(atPath: "\(gate.directory)/audit.anchor")
        let verify = gate.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("anchorMissing: the anchor file"), "\(verify.stdout)")
    }

    @Test func aForgedAnchorFileIsNamed() throws {
        let (gate, _) = try gateWithEvents(grants: 1)
        let path = "\(gate.directory)/audit.anchor"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let seq = try lastSeq(gate)
        try text.replacingOccurrences(of: "\"seq\":\(seq)", with: "\"seq\":\(seq + 40)").write(toFile: path, atomically: true, encoding: .utf8)
        let verify = gate.run(["audit", "verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("anchorForged"), "\(verify.stdout)")
    }

    @Test func aWitnessedHeadCatchesTheDatabaseAndTheAnchorRolledBackTogether() throws {
        let (gate, _) = try gateWithEvents(grants: 1)
        let saved = "\(gate.directory)-saved"
        try FileManager.default.copyItem(atPath: gate.directory, toPath: saved)
        try gate.start()
        _ = gate.simulate("card", "--uid", "04A1B2C3")
        gate.stop()
        let head = gate.run(["audit", "head", "--json"])
        try #require(head.succeeded)
        let witness = "\(gate.directory)-witness.json"
        try head.stdout.write(toFile: witness, atomically: true, encoding: .utf8)
        #expect(try report(gate, witness: witness).ok)

        try FileManager.default.removeItem(atPath: gate.directory)
        try FileManager.default.copyItem(atPath: saved, toPath: gate.directory)
        #expect(try report(gate).ok, "both rolled back: nothing left on the box remembers")
        let found = try report(gate, witness: witness)
        #expect(found.findings.map(\.kind) == ["databaseRolledBack"])
        #expect(found.findings.first?.message.contains("the witnessed head") == true)

        // The daemon's journal witnesses heads too: the stop line of the newer run names its seq and hash.
        let lines = gate.daemonOutput.split(separator: "\n").filter { $0.contains("audit head") && $0.contains("audit.moment=stop") }
        let last = try #require(lines.last)
        let journalHead = try JSONDecoder().decode(Report.Head.self, from: Data(head.stdout.utf8))
        #expect(last.contains("audit.seq=\(journalHead.seq)") && last.contains("audit.hash=\(journalHead.hash.prefix(16))"), "\(last)")
        let fromJournal = "\(gate.directory)-journal.json"
        try #"{"seq": \#(journalHead.seq), "hash": "\#(journalHead.hash.prefix(16))"}"#.write(toFile: fromJournal, atomically: true, encoding: .utf8)
        #expect(try report(gate, witness: fromJournal).findings.map(\.kind) == ["databaseRolledBack"])
    }

    @Test func theDaemonLogOfAGrantedDecisionHoldsNoResidentId() throws {
        let gate = Gate()
        let id = try gate.resident(name: "Wang Fang", card: "04A1B2C3", pin: "582946")
        try gate.start()
        #expect(gate.simulate("card", "--uid", "04A1B2C3").contains("granted"))
        #expect(gate.simulate("pin", "582946").contains("granted"))
        gate.stop()
        let log = gate.daemonOutput
        #expect(log.contains("access decision") && log.contains("decision.result=granted"), "the decision was logged: \(log)")
        #expect(log.contains("audit.seq="), "the decision line points at its audit entry")
        for secret in [id, "Wang Fang", "3-1501"] {
            #expect(!log.contains(secret), "\(secret) in the daemon log")
        }
        #expect(gate.run(["events", "--json"]).stdout.contains(id), "the audit log itself keeps the resident")
    }
}
