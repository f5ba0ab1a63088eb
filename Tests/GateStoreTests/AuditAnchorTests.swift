import Foundation
import GRDB
import GateCore
import GateStore
import Synchronization
import Testing

/// The end of the audit log: the signed head record, the anchor file and outside witnesses, against
/// someone who can edit the database with `sqlite3` and copy files in the state directory, but does
/// not have the device key.
@Suite struct AuditAnchorTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    func append(_ count: Int, to store: GateDatabase? = nil, door: String = "main") throws {
        for index in 0..<count {
            try (store ?? fixture.store).record(AuditRecord(
                time: fixture.clock.now, category: .access, action: .door(.access, .method(.card)), door: door, method: .card,
                result: index % 2 == 0 ? .granted : .denied, reason: index % 2 == 0 ? .valid : .unknownCard))
        }
        // Publishing the head waits for the anchor, as the daemon's stop does before anyone tampers.
        _ = try (store ?? fixture.store).auditHead()
    }

    /// Runs raw SQL with the append-only triggers dropped, as an attacker with the sqlite3 tool could.
    func tamper(_ sql: String) throws {
        try fixture.raw().write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS auditEntry_no_delete; DROP TRIGGER IF EXISTS auditEntry_only_redaction")
            try db.execute(sql: sql)
        }
    }

    func kinds(_ report: AuditReport) -> [AuditFinding.Kind] { report.findings.map(\.kind) }

    var anchorPath: String { fixture.store.auditAnchorPath }

    /// A copy of the state directory's database, key and anchor as they are now (daemon "stopped").
    func snapshot() throws -> String {
        let copy = fixture.directory + "-copy-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: copy + "/keys", withIntermediateDirectories: true)
        try fixture.raw().writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [copy + "/optgate.sqlite"]) }
        try FileManager.default.copyItem(atPath: fixture.directory + "/keys/master.key", toPath: copy + "/keys/master.key")
        try FileManager.default.copyItem(atPath: anchorPath, toPath: copy + "/audit.anchor")
        return copy
    }

    /// `directory`'s database and key with the anchor file of the live state directory: the database file rolled back.
    func restore(_ directory: String, anchorFrom source: String? = nil) throws -> String {
        let target = fixture.directory + "-restored-\(UUID().uuidString.prefix(6))"
        try FileManager.default.copyItem(atPath: directory, toPath: target)
        try? FileManager.default.removeItem(atPath: target + "/audit.anchor")
        try FileManager.default.copyItem(atPath: source ?? anchorPath, toPath: target + "/audit.anchor")
        return target
    }

    @Test func aNewStoreIsAnchoredAndEveryAppendMovesTheAnchor() throws {
        #expect(FileManager.default.fileExists(atPath: anchorPath))
        #expect(try fixture.store.auditReport().isIntact)
        try append(5)
        let report = try fixture.store.auditReport()
        #expect(report.isIntact, "\(report.findings)")
        #expect(report.anchor?.seq == 5 && report.head?.seq == 5)
        #expect(try fixture.store.auditHead() == report.anchor)
    }

    @Test func aTruncatedTailIsNamedWithItsRangeAndTheAnchorTime() throws {
        try append(10)
        try tamper("DELETE FROM auditEntry WHERE seq > 7")
        let report = try fixture.store.auditReport()
        #expect(kinds(report) == [.tailTruncated], "\(report.findings)")
        let finding = try #require(report.findings.first)
        #expect(finding.seq == 8 && finding.lastSeq == 10)
        #expect(finding.message.contains("entries 8–10 are missing"), "\(finding.message)")
        #expect(finding.message.contains("since the last anchor at"), "\(finding.message)")
        #expect(try fixture.store.verifyAudit() == .broken(seq: 8, problem: finding.message))
    }

    @Test func aTruncatedTailWithItsHeadRewoundIsStillNamed() throws {
        try append(10)
        // The attacker points the head record at entry 7: its MAC no longer matches, the anchor still says 10.
        try tamper("""
            DELETE FROM auditEntry WHERE seq > 7;
            UPDATE auditHead SET seq = 7, hash = (SELECT hash FROM auditEntry WHERE seq = 7)
            """)
        let report = try fixture.store.auditReport()
        #expect(kinds(report) == [.headForged, .tailTruncated], "\(report.findings)")
        #expect(report.findings.last?.lastSeq == 10)
    }

    @Test func aTruncatedTailWithItsHeadDeletedIsNamed() throws {
        try append(10)
        try tamper("DELETE FROM auditEntry WHERE seq > 7; DELETE FROM auditHead")
        let report = try fixture.store.auditReport()
        #expect(kinds(report) == [.headMissing, .tailTruncated], "\(report.findings)")
    }

    @Test func aDeletedHeadIsNamed() throws {
        try append(4)
        try tamper("DELETE FROM auditHead")
        #expect(kinds(try fixture.store.auditReport()) == [.headMissing])
        // The log goes on: a deleted head record does not stop decisions from being recorded.
        try append(1)
        #expect(try fixture.store.auditReport().isIntact)
    }

    @Test(arguments: ["DELETE FROM auditEntry", "DELETE FROM auditEntry; DELETE FROM auditHead"])
    func aWipedLogIsNamed(sql: String) throws {
        try append(6)
        try tamper(sql)
        let report = try fixture.store.auditReport()
        #expect(kinds(report).contains(.logWiped), "\(report.findings)")
        #expect(report.findings.first { $0.kind == .logWiped }?.lastSeq == 6)
    }

    @Test func aDeletedDatabaseFileIsNamedAsAWipe() throws {
        try append(6)
        let copy = try snapshot()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + "/optgate.sqlite" + suffix) }
        let store = try GateDatabase(stateDirectory: copy)
        #expect(kinds(try store.auditReport()) == [.logWiped])
    }

    @Test func aDatabaseRolledBackToAnOlderCopyIsNamed() throws {
        try append(4)
        let old = try snapshot()
        try append(6)
        let refusals = Mutex<[AuditAnchorRefusal]>([])
        let restored = try restore(old)
        let store = try GateDatabase(stateDirectory: restored, anchorRefused: { refusal in refusals.withLock { $0.append(refusal) } })
        let report = try store.auditReport()
        #expect(kinds(report) == [.databaseRolledBack], "\(report.findings)")
        #expect(report.findings.first?.message.contains("ends at entry 4") == true, "\(report.findings)")
        #expect(report.findings.first?.lastSeq == 10)

        // The daemon keeps recording on the old copy; the anchor does not follow it back, and once the
        // copy has grown past the anchored seq the rollback is still named.
        try append(10, to: store, door: "side")
        let grown = try store.auditReport()
        #expect(kinds(grown) == [.databaseRolledBack], "\(grown.findings)")
        #expect(grown.anchor?.seq == 10)
        // The anchor writer coalesces bursts and writes only the newest head, so whether it also saw a head
        // still behind entry 10 (`.behind`) depends on timing; the head past it is always refused as diverged.
        let seen = refusals.withLock { $0 }
        #expect(seen.last == .diverged(anchoredSeq: 10), "\(seen)")
        #expect(seen.allSatisfy { $0 == .behind(anchoredSeq: 10) || $0 == .diverged(anchoredSeq: 10) }, "\(seen)")
    }

    @Test func rollingBackTheDatabaseAndTheAnchorTogetherIsCaughtOnlyByAWitness() throws {
        try append(4)
        let old = try snapshot()
        try append(6)
        let witnessed = try fixture.store.auditHead()
        let restored = try restore(old, anchorFrom: old + "/audit.anchor")
        let store = try GateDatabase(stateDirectory: restored)
        #expect(try store.auditReport().isIntact, "nothing on the box remembers the newer head")
        let report = try store.auditReport(witness: AuditWitness(witnessed))
        #expect(kinds(report) == [.databaseRolledBack], "\(report.findings)")
        #expect(report.findings.first?.message.contains("the witnessed head") == true)
        // A journal line carries only the seq and 16 hex digits of the hash; that is enough.
        let line = try #require(AuditWitness(seq: witnessed.seq, hash: witnessed.shortHash))
        #expect(kinds(try store.auditReport(witness: line)) == [.databaseRolledBack])
        #expect(try fixture.store.auditReport(witness: line).isIntact)
    }

    @Test func aForgedWitnessIsNamed() throws {
        try append(3)
        var head = try fixture.store.auditHead()
        head.seq += 100
        let report = try fixture.store.auditReport(witness: AuditWitness(head))
        #expect(kinds(report) == [.witnessForged])
    }

    @Test func aDeletedAnchorIsNamedAndNotRecreatedByTheNextAppend() throws {
        try append(3)
        try FileManager.default.removeItem(atPath: anchorPath)
        #expect(kinds(try fixture.store.auditReport()) == [.anchorMissing])
        try append(1)
        #expect(!FileManager.default.fileExists(atPath: anchorPath))
        #expect(kinds(try fixture.store.auditReport()) == [.anchorMissing])
    }

    @Test(arguments: [#"{"seq": 99}"#, "garbage", ""])
    func aForgedAnchorIsNamedAndKept(text: String) throws {
        try append(3)
        try text.write(toFile: anchorPath, atomically: true, encoding: .utf8)
        #expect(kinds(try fixture.store.auditReport()) == [.anchorForged])
        try append(1)
        #expect(try String(contentsOfFile: anchorPath, encoding: .utf8) == text, "the evidence stays")
    }

    @Test func anAnchorWithAnEditedSeqFailsItsMAC() throws {
        try append(3)
        let text = try String(contentsOfFile: anchorPath, encoding: .utf8)
        try text.replacingOccurrences(of: #""seq":3"#, with: #""seq":2"#).write(toFile: anchorPath, atomically: true, encoding: .utf8)
        #expect(kinds(try fixture.store.auditReport()) == [.anchorForged])
    }

    @Test func editsInTheMiddleAreStillNamed() throws {
        try append(6)
        try tamper("UPDATE auditEntry SET result = 'granted' WHERE seq = 2")
        let report = try fixture.store.auditReport()
        #expect(kinds(report) == [.entryModified])
        #expect(report.findings.first?.seq == 2)
    }

    @Test func reanchoringAfterARestoreIsRecordedAndClearsTheFinding() throws {
        try append(4)
        let old = try snapshot()
        try append(6)
        let store = try GateDatabase(stateDirectory: try restore(old))
        #expect(!(try store.auditReport().isIntact))
        let (previous, current) = try store.reanchorAudit(reason: "restored the backup of Monday", operator: "unix:admin")
        #expect(previous?.seq == 10 && current.seq == 5)
        #expect(try store.auditReport().isIntact)
        let entry = try #require(try store.auditEntries().last)
        #expect(entry.action == "audit.reanchor")
        #expect(entry.detail?.contains("previousAnchorSeq") == true && entry.detail?.contains("databaseRolledBack") == true)
    }

    @Test func reanchoringRefusesABrokenChain() throws {
        try append(4)
        try tamper("UPDATE auditEntry SET door = 'side' WHERE seq = 2")
        #expect(throws: GateStoreError.self) { try fixture.store.reanchorAudit(reason: "x", operator: "t") }
    }

    @Test func aStoreFromBeforeAnchoringIsSignedAndAnchoredWhenOpened() throws {
        try append(4)
        // The store as the previous version left it: no signed head, no anchor file.
        try fixture.raw().write { db in
            try db.execute(sql: """
                ALTER TABLE auditHead DROP COLUMN time; ALTER TABLE auditHead DROP COLUMN mac;
                DELETE FROM grdb_migrations WHERE identifier = 'v3-audit-anchor'
                """)
        }
        try FileManager.default.removeItem(atPath: anchorPath)
        let upgraded = try GateDatabase(stateDirectory: fixture.directory)
        let report = try upgraded.auditReport()
        #expect(report.isIntact, "\(report.findings)")
        #expect(report.anchor?.seq == 4)
    }

    @Test func signedHeadsRoundTripThroughJSON() throws {
        try append(2)
        let head = try fixture.store.auditHead()
        let data = try JSONEncoder().encode(head)
        #expect(try AuditWitness(json: data) == AuditWitness(head))
        #expect(try AuditWitness(json: Data(#"{"seq": 2, "hash": "\#(head.shortHash)"}"#.utf8)).seq == 2)
        #expect(throws: (any Error).self) { try AuditWitness(json: Data(#"{"seq": 2, "hash": "abc"}"#.utf8)) }
    }
}
