import Foundation
import GRDB
import GateCore
import GateStore
import Testing

@Suite struct CredentialTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    @Test func cardsAreFoundByKeyedHashAndNeverStoredInClear() throws {
        let id = try fixture.resident()
        let uid = CardUID("04:a1:b2:c3:d4:e5:f6")!
        #expect(uid.hex == "04A1B2C3D4E5F6")
        try fixture.store.addCard(residentID: id, uid: uid, operator: "t")
        #expect(try fixture.store.holder(ofCard: CardUID("04A1B2C3D4E5F6")!)?.residentID == id)
        #expect(try fixture.store.holder(ofCard: CardUID("04A1B2C3D4E5F7")!) == nil)
        #expect(throws: GateStoreError.cardAlreadyEnrolled(last4: "E5F6")) {
            try fixture.store.addCard(residentID: id, uid: uid, operator: "t")
        }
        for needle in ["04A1B2C3D4E5F6", "04a1b2c3d4e5f6", "04A1B2C3D4"] {
            #expect(!fixture.filesContain(Data(needle.utf8)))
        }
        #expect(!fixture.filesContain(Data([0x04, 0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6])))
        try fixture.store.removeCard(residentID: id, uid: uid, operator: "t")
        #expect(try fixture.store.holder(ofCard: uid) == nil)
    }

    @Test func pinsAreSlowHashedUniqueAndNeverStoredInClear() throws {
        let id = try fixture.resident()
        let other = try fixture.resident("Chen Jie")
        try fixture.store.setPIN(residentID: id, pin: PIN("135792")!, operator: "t")
        #expect(try fixture.store.holder(ofPIN: PIN("135792")!)?.residentID == id)
        #expect(try fixture.store.holder(ofPIN: PIN("135793")!) == nil)
        #expect(throws: GateStoreError.pinUnavailable) { try fixture.store.setPIN(residentID: other, pin: PIN("135792")!, operator: "t") }
        #expect(!fixture.filesContain(Data("135792".utf8)))
        let stored = try fixture.raw().read { try String.fetchOne($0, sql: "SELECT hash FROM pin") }
        #expect(stored?.hasPrefix("scrypt$32768$8$1$") == true)
        try fixture.store.clearPIN(residentID: id, operator: "t")
        #expect(try fixture.store.holder(ofPIN: PIN("135792")!) == nil)
    }

    @Test(arguments: ["1111", "1234", "98765", "0123456", "123"])
    func guessablePinsAreRefused(digits: String) throws {
        let id = try fixture.resident()
        #expect(throws: GateStoreError.self) { try fixture.store.setPIN(residentID: id, pin: PIN(digits)!, operator: "t") }
    }

    @Test func aDamagedKeyFileStopsWithAClearError() throws {
        let directory = fixture.directory + "-broken"
        try FileManager.default.createDirectory(atPath: directory + "/keys", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = FileManager.default.createFile(atPath: directory + "/keys/master.key", contents: Data([1, 2, 3]))
        #expect {
            _ = try GateDatabase(stateDirectory: directory)
        } throws: { error in
            "\(error)".contains("holds 3 bytes instead of 32")
        }
    }

    @Test func expiredResidentsCarryTheirValidity() throws {
        let id = try fixture.store.addResident(name: "Moving Out", unit: "1-101", validUntil: WallTime(millisecondsSince1970: 5),
                                               operator: "t")
        try fixture.store.addCard(residentID: id, uid: CardUID("0A0B0C0D")!, operator: "t")
        #expect(try fixture.store.holder(ofCard: CardUID("0A0B0C0D")!)?.validUntil == WallTime(millisecondsSince1970: 5))
    }
}
