import Foundation
import GRDB
import GateCore
import GateStore
import Testing

@Suite struct ConsentLedgerTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    @Test func grantAndWithdrawAppendRowsAndTheLedgerRefusesEdits() throws {
        let id = try fixture.resident()
        _ = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .paper, operator: "clerk Wang")
        _ = try fixture.store.withdrawConsent(residentID: id, method: .kiosk, operator: "kiosk")
        let history = try fixture.store.consentHistory(residentID: id)
        #expect(history.map(\.action) == [.grant, .withdraw])
        #expect(history[0].noticeSHA256 == (try fixture.notice()).sha256)
        #expect(history[0].operator == "clerk Wang")

        let db = try fixture.raw()
        #expect(throws: DatabaseError.self) {
            try db.write { try $0.execute(sql: "UPDATE consent SET action = 'grant' WHERE action = 'withdraw'") }
        }
        #expect(throws: DatabaseError.self) {
            try db.write { try $0.execute(sql: "DELETE FROM consent") }
        }
        #expect(try fixture.store.consentHistory(residentID: id).count == 2)
    }

    @Test func templatesNeedActiveConsentInSwiftAndInTheSchema() throws {
        let id = try fixture.resident()
        #expect(throws: GateStoreError.noActiveConsent(residentID: id)) {
            try fixture.store.storeFaceTemplate(residentID: id, embedder: "test", embedding: [1, 2, 3], operator: "t")
        }
        // Bypassing Swift: the trigger refuses a template for a withdrawn consent.
        let grant = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .console, operator: "t")
        _ = try fixture.store.withdrawConsent(residentID: id, method: .console, operator: "t")
        #expect(throws: DatabaseError.self) {
            try fixture.raw().write {
                try $0.execute(sql: "INSERT INTO faceTemplate VALUES ('tx', ?, ?, 'test', 3, x'00', 0)", arguments: [id, grant.id])
            }
        }
        #expect(throws: GateStoreError.noActiveConsent(residentID: id)) {
            try fixture.store.storeFaceTemplate(residentID: id, embedder: "test", embedding: [1, 2, 3], operator: "t")
        }
    }

    @Test func withdrawalErasesTemplateBytesFromDatabaseAndWAL() throws {
        let id = try fixture.resident()
        let card = CardUID("04A1B2C3D4E5F6")!
        try fixture.store.addCard(residentID: id, uid: card, operator: "t")
        try fixture.store.setPIN(residentID: id, pin: PIN("135792")!, operator: "t")
        _ = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .console, operator: "t")
        let embedding = (0..<128).map { Float($0) * 0.01 + 0.123 }
        for _ in 0..<3 {
            try fixture.store.storeFaceTemplate(residentID: id, embedder: "dlib-resnet-v1", embedding: embedding, operator: "t")
        }
        let sealed = try fixture.raw().read { try Data.fetchAll($0, sql: "SELECT sealed FROM faceTemplate") }
        #expect(sealed.count == 3)
        #expect(sealed.allSatisfy { fixture.filesContain($0.subdata(in: 12..<44)) }, "the ciphertext is on disk before withdrawal")
        #expect(try fixture.store.activeFaceTemplates().first?.embedding == embedding)

        let (_, deleted) = try fixture.store.withdrawConsent(residentID: id, method: .console, operator: "t")
        #expect(deleted == 3)
        #expect(try fixture.raw().read { try Int.fetchOne($0, sql: "SELECT count(*) FROM faceTemplate") } == 0)
        for blob in sealed {
            #expect(!fixture.filesContain(blob.subdata(in: 12..<44)), "no ciphertext residue in .sqlite or -wal")
        }
        #expect(try fixture.store.activeFaceTemplates().isEmpty)
        #expect(try fixture.store.holder(ofCard: card)?.residentID == id, "the card keeps working")
        #expect(try fixture.store.holder(ofPIN: PIN("135792")!)?.residentID == id, "the PIN keeps working")
    }

    @Test func consentCannotBeGrantedTwiceOrWithdrawnWithoutGrant() throws {
        let id = try fixture.resident()
        #expect(throws: GateStoreError.noActiveConsent(residentID: id)) {
            _ = try fixture.store.withdrawConsent(residentID: id, method: .console, operator: "t")
        }
        _ = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .console, operator: "t")
        #expect(throws: GateStoreError.consentAlreadyActive(residentID: id)) {
            _ = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .console, operator: "t")
        }
    }

    @Test func atMostFiveTemplatesPerResident() throws {
        let id = try fixture.resident()
        _ = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .console, operator: "t")
        for _ in 0..<5 { try fixture.store.storeFaceTemplate(residentID: id, embedder: "e", embedding: [1], operator: "t") }
        #expect(throws: GateStoreError.tooManyTemplates(residentID: id, limit: 5)) {
            try fixture.store.storeFaceTemplate(residentID: id, embedder: "e", embedding: [1], operator: "t")
        }
    }

    @Test func noticesShipInBothLanguages() throws {
        let zh = try NoticeLibrary.notice(version: "1", language: "zh")
        let en = try NoticeLibrary.notice(version: "1", language: "en")
        #expect(zh.text.contains("人脸识别"))
        #expect(en.text.contains("card or your PIN"))
        #expect(zh.sha256 != en.sha256)
        #expect(throws: GateStoreError.self) { try NoticeLibrary.notice(version: "99", language: "zh") }
    }
}
