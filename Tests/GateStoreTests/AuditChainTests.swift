import Foundation
import GRDB
import GateCore
import GateStore
import Testing

@Suite struct AuditChainTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    /// Ten entries of mixed kinds.
    func populate() throws -> String {
        let id = try fixture.resident()
        try fixture.store.addCard(residentID: id, uid: CardUID("04A1B2C3")!, operator: "t")
        for index in 0..<8 {
            try fixture.store.record(AuditRecord(time: fixture.clock.now, category: .access, action: .door(.access, .method(.card)), door: "main",
                                                 method: .card, result: index % 2 == 0 ? .granted : .denied,
                                                 reason: index % 2 == 0 ? .valid : .unknownCard,
                                                 residentID: index % 2 == 0 ? id : nil))
        }
        return id
    }

    /// Runs raw SQL with the append-only triggers dropped, as an attacker with the sqlite3 tool could.
    func tamper(_ sql: String) throws {
        try fixture.raw().write { db in
            try db.execute(sql: "DROP TRIGGER auditEntry_no_delete; DROP TRIGGER auditEntry_only_redaction")
            try db.execute(sql: sql)
        }
    }

    @Test func intactChainVerifies() throws {
        _ = try populate()
        #expect(try fixture.store.verifyAudit() == .intact(entries: 10))
    }

    @Test func theTriggersRefuseEditsAndDeletes() throws {
        _ = try populate()
        #expect(throws: DatabaseError.self) { try fixture.raw().write { try $0.execute(sql: "DELETE FROM auditEntry WHERE seq = 3") } }
        #expect(throws: DatabaseError.self) {
            try fixture.raw().write { try $0.execute(sql: "UPDATE auditEntry SET result = 'granted' WHERE seq = 4") }
        }
    }

    @Test(arguments: [
        ("UPDATE auditEntry SET result = 'granted', reason = 'valid' WHERE seq = 4", Int64(4)),
        ("UPDATE auditEntry SET time = time + 1 WHERE seq = 7", 7),
        ("DELETE FROM auditEntry WHERE seq = 5", 5),
        ("UPDATE auditEntry SET seq = 100 WHERE seq = 3; UPDATE auditEntry SET seq = 3 WHERE seq = 6; UPDATE auditEntry SET seq = 6 WHERE seq = 100", 3),
        ("DELETE FROM auditEntry WHERE seq = 10", 10),
        ("UPDATE auditEntry SET detail = NULL, redactedBy = 10 WHERE seq = 2", 2),
    ])
    func everyKindOfTamperingIsNamed(sql: String, seq: Int64) throws {
        _ = try populate()
        try tamper(sql)
        guard case .broken(let brokenSeq, let problem) = try fixture.store.verifyAudit() else {
            Issue.record("tampering went unnoticed: \(sql)")
            return
        }
        #expect(brokenSeq == seq, "\(problem)")
    }

    @Test func rechainingWithoutTheDeviceKeyIsDetected() throws {
        _ = try populate()
        // An attacker recomputes nothing they can: the link is an HMAC under a key outside the database.
        try tamper("UPDATE auditEntry SET hash = prevHash WHERE seq = 9")
        #expect(try fixture.store.verifyAudit() == .broken(seq: 9, problem: "entry 9 has a hash that this device did not write"))
    }

    @Test func retentionPurgeBlanksOldEventsAndKeepsTheChainVerifiable() throws {
        _ = try populate()
        fixture.clock.advance(days: 200)
        try fixture.store.record(AuditRecord(time: fixture.clock.now, category: .access, action: .door(.access, .method(.pin)), door: "main",
                                             method: .pin, result: .denied, reason: .unknownPin))
        #expect(try fixture.store.purgeEvents(olderThanDays: 180, operator: "optgated") == 8)
        #expect(try fixture.store.events().count == 1)
        #expect(try fixture.store.verifyAudit() == .intact(entries: 12))
        #expect(try fixture.store.purgeEvents(olderThanDays: 180, operator: "optgated") == 0)
    }
}

@Suite struct ErasureTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    @Test func eraseLeavesNoPersonalDataAndAVerifiableTombstone() throws {
        let name = "Zhang Xiuying"
        let id = try fixture.resident(name)
        let other = try fixture.resident("Chen Jie")
        try fixture.store.addCard(residentID: id, uid: CardUID("04A1B2C3D4")!, operator: "t")
        try fixture.store.setPIN(residentID: id, pin: PIN("864213")!, operator: "t")
        _ = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .paper, operator: "t")
        try fixture.store.storeFaceTemplate(residentID: id, embedder: "e", embedding: [0.5, 0.25], operator: "t")
        try fixture.store.record(AuditRecord(time: fixture.clock.now, category: .access, action: .door(.access, .method(.card)), door: "main",
                                             method: .card, result: .granted, reason: .valid, residentID: id))
        let exported = try fixture.store.export(residentID: id)
        #expect(exported.consentHistory.count == 1 && exported.accessEvents.count == 1 && exported.faceTemplates.count == 1)

        let receipt = try fixture.store.eraseResident(id, operator: "t")
        #expect(receipt.blankedEntries >= 6)

        let db = try fixture.raw()
        let tables = try db.read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        for table in tables {
            let rows = try db.read { try Row.fetchAll($0, sql: "SELECT * FROM \(table)") }
            for row in rows {
                let text = row.description
                #expect(!text.contains(id) && !text.contains(name), "\(table) still holds \(text)")
            }
        }
        #expect(!fixture.filesContain(Data(name.utf8)) && !fixture.filesContain(Data(id.utf8)))
        #expect(try fixture.store.verifyAudit() == .intact(entries: Int(receipt.auditSeq)))
        #expect(try fixture.store.resident(other).displayName == "Chen Jie")
        #expect(throws: GateStoreError.residentNotFound(id)) { _ = try fixture.store.resident(id) }
        let tombstone = try fixture.store.auditEntries().last
        #expect(tombstone?.action == "resident.erase")
        #expect(tombstone?.detail?.contains(receipt.token) == true)
    }
}
