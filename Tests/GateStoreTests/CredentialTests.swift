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

    @Test func pinsAreSlowHashedAndNeverStoredInClear() throws {
        let id = try fixture.resident()
        try fixture.store.setPIN(residentID: id, pin: PIN("135792")!, operator: "t")
        #expect(try fixture.store.holder(ofPIN: PIN("135792")!)?.residentID == id)
        #expect(try fixture.store.holder(ofPIN: PIN("135793")!) == nil)
        #expect(!fixture.filesContain(Data("135792".utf8)))
        let stored = try fixture.raw().read { try String.fetchOne($0, sql: "SELECT hash FROM pin") }
        #expect(stored?.hasPrefix("scrypt$32768$8$1$") == true)
        try fixture.store.clearPIN(residentID: id, operator: "t")
        #expect(try fixture.store.holder(ofPIN: PIN("135792")!) == nil)
    }

    /// `pin set` is no oracle: a PIN another resident holds is accepted like any other; at a PIN-only
    /// keypad the shared PIN then lets nobody in (ambiguous), at a unit + PIN keypad each unit's own works.
    @Test func aPinAnotherResidentHoldsIsNeitherRefusedNorRevealed() throws {
        let id = try fixture.resident()
        let neighbour = try fixture.store.addResident(name: "Chen Jie", unit: "5-0802", validUntil: nil, operator: "t")
        try fixture.store.setPIN(residentID: id, pin: PIN("135792")!, operator: "t")
        try fixture.store.setPIN(residentID: neighbour, pin: PIN("135792")!, operator: "t")
        #expect(try fixture.store.holders(ofPIN: PIN("135792")!) == .ambiguous(count: 2))
        #expect(try fixture.store.holder(ofPIN: PIN("135792")!) == nil)
        guard case .one(let mine) = try fixture.store.holders(ofPIN: PIN("135792")!, unitCode: "31501") else {
            Issue.record("the unit code 31501 finds its resident")
            return
        }
        #expect(mine.residentID == id)
        guard case .one(let theirs) = try fixture.store.holders(ofPIN: PIN("135792")!, unitCode: "50802") else {
            Issue.record("the unit code 50802 finds its resident")
            return
        }
        #expect(theirs.residentID == neighbour)
        #expect(try fixture.store.holders(ofPIN: PIN("135792")!, unitCode: "999") == PinMatch.none)
    }

    /// Unit + PIN keypads keep no lookup tag: only the slow hash exists for such a PIN.
    @Test func unitPinPinsHaveNoLookupTag() throws {
        let id = try fixture.resident()
        try fixture.store.setPIN(residentID: id, pin: PIN("135792")!, lookupTag: false, operator: "t")
        #expect(try fixture.raw().read { try Bool.fetchOne($0, sql: "SELECT lookupTag IS NULL FROM pin") } == true)
        #expect(try fixture.store.holder(ofPIN: PIN("135792")!) == nil)
        guard case .one(let found) = try fixture.store.holders(ofPIN: PIN("135792")!, unitCode: "31501") else {
            Issue.record("the unit code finds the resident")
            return
        }
        #expect(found.residentID == id)
        let census = try fixture.store.pinCensus()
        #expect(census.holders == 1 && census.withoutLookupTag == 1 && census.largestUnit == 1 && census.withoutUnitCode == 0)
    }

    @Test func theUnitCodeAndTooShortPinsAreRefused() throws {
        let id = try fixture.resident()
        #expect(throws: GateStoreError.invalidPIN("it contains the unit code")) {
            try fixture.store.setPIN(residentID: id, pin: PIN("315018")!, operator: "t")
        }
        #expect(throws: GateStoreError.invalidPIN("a PIN has at least 6 digits")) {
            try fixture.store.setPIN(residentID: id, pin: PIN("3579")!, operator: "t")
        }
        try fixture.store.setPIN(residentID: id, pin: PIN("3579")!, strength: PinStrength(minimumDigits: 4, maximumDigits: 8), operator: "t")
    }

    @Test func wrongPinCountersSurviveReopeningTheStore() throws {
        var limits = PinGuessLimits(rules: LockoutRules())
        let scopes = PinGuessLimits.scopes(keypad: "/dev/input/by-id/usb-pad:1.0-event-kbd", door: "main")
        for second in 0..<5 { _ = limits.charge(scopes, at: WallTime(millisecondsSince1970: 1_800_000_000_000 + Int64(second) * 1000)) }
        try fixture.store.savePinGuessCounters(Dictionary(uniqueKeysWithValues: scopes.map { ($0, limits.counter($0)) }))
        let reopened = try GateDatabase(stateDirectory: fixture.directory)
        let loaded = try reopened.pinGuessCounters()
        #expect(loaded.count == 2)
        #expect(loaded[scopes[0]] == limits.counter(scopes[0]))
        #expect(loaded[scopes[0]]?.lockedUntil != nil)
        try reopened.savePinGuessCounters([scopes[0]: GuessCounter()])
        #expect(try reopened.pinGuessCounters().count == 1, "an empty counter deletes its row")
    }

    @Test(arguments: ["111111", "123456", "987654", "0123456", "12345", "121212"])
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
