import Foundation
import GRDB
import GateCore
import GateStore
import Testing

/// Visitor passes in the store: keyed code tags, signed QR payloads, one use per presentation.
@Suite struct VisitorPassStoreTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    func issue(uses: Int = 2, doors: [String] = ["main"], days: Int = 1) throws -> IssuedVisitorPass {
        try fixture.store.issueVisitorPass(doors: doors, validFor: .seconds(Int64(days) * 86_400), uses: uses, name: "Courier Zhang",
                                           operator: "test")
    }

    @Test func theCodeIsShownOnceAndStoredOnlyAsAKeyedTag() throws {
        let issued = try issue()
        #expect(issued.code.count == VisitorKeypad.codeDigits && issued.code.allSatisfy(\.isNumber))
        #expect(VisitorPassID.isWellFormed(issued.pass.id))
        #expect(!fixture.filesContain(Data(issued.code.utf8)))
        #expect(!fixture.filesContain(Data(issued.qr.utf8)), "the QR text is not stored either")
        let listed = try fixture.store.visitorPasses()
        #expect(listed.map(\.id) == [issued.pass.id] && listed[0].usesLeft == 2 && listed[0].doors == ["main"])
        let actions = try fixture.raw().read { try String.fetchAll($0, sql: "SELECT action FROM auditEntry ORDER BY seq") }
        #expect(actions.contains("visitor.issue"))
    }

    @Test func endedPassesAreDeletedNameAndAllOnceTheRetentionPeriodPasses() throws {
        _ = try issue(days: 1)  // expires
        let revoked = try issue(days: 30)
        let current = try fixture.store.issueVisitorPass(doors: ["main"], validFor: .seconds(60 * 86_400), uses: 1,
                                                        name: "Plumber Li", operator: "test")
        try fixture.store.revokeVisitorPass(id: revoked.pass.id, operator: "test")

        fixture.clock.advance(days: 30)  // ended 29 and 30 days ago: still within 30 days' retention
        #expect(try fixture.store.purgeVisitorPasses(endedMoreThanDays: 30, operator: "test") == 0)
        #expect(fixture.filesContain(Data("Courier Zhang".utf8)))

        fixture.clock.advance(days: 2)
        #expect(try fixture.store.purgeVisitorPasses(endedMoreThanDays: 30, operator: "test") == 2)
        #expect(try fixture.store.visitorPasses().map(\.id) == [current.pass.id], "the pass still valid stays")
        #expect(!fixture.filesContain(Data("Courier Zhang".utf8)), "no name left in the database or its log")
        let doorRows = try fixture.raw().read { try String.fetchAll($0, sql: "SELECT passId FROM visitorPassDoor") }
        #expect(doorRows == [current.pass.id], "the ended passes' doors went with them")
        let purges = try fixture.raw().read {
            try String.fetchAll($0, sql: "SELECT detail FROM auditEntry WHERE action = 'visitor.purge'")
        }
        #expect(purges.count == 1 && purges[0].contains("2") && !purges[0].contains("Courier"))
        guard case .intact = try fixture.store.verifyAudit() else {
            Issue.record("the audit chain no longer verifies after the purge")
            return
        }
    }

    @Test func aCodeWorksItsUsesThenIsUsedUpAndAnUnknownCodeIsNobodys() throws {
        let issued = try issue(uses: 2)
        let code = PIN(issued.code)!
        #expect(try fixture.store.consumeVisitorPass(code: code, door: "main") == VisitorPassDecision(passID: issued.pass.id, refusal: nil))
        #expect(try fixture.store.consumeVisitorPass(code: code, door: "garage")?.refusal == .notInGroup, "a wrong door spends nothing")
        #expect(try fixture.store.consumeVisitorPass(code: code, door: "main")?.refusal == nil)
        #expect(try fixture.store.consumeVisitorPass(code: code, door: "main")?.refusal == .passUsedUp)
        let other = issued.code == "00000000" ? "00000001" : "00000000"
        #expect(try fixture.store.consumeVisitorPass(code: PIN(other)!, door: "main") == nil)
    }

    @Test func theSignedQROpensAndAnEditedForeignExpiredOrRevokedOneDoesNot() throws {
        let issued = try issue(uses: 5)
        #expect(issued.qr.hasPrefix("OGV1.\(issued.pass.id).") && issued.qr.utf8.count <= VisitorQR.maximumLength)
        #expect(try fixture.store.consumeVisitorPass(qr: issued.qr, door: "main").refusal == nil)

        // Edited: a later expiry, another pass id, a flipped signature character, junk.
        var parts = issued.qr.split(separator: ".").map(String.init)
        parts[2] = String(Int64(parts[2])! + 86_400_000)
        #expect(try fixture.store.consumeVisitorPass(qr: parts.joined(separator: "."), door: "main") == VisitorPassDecision(passID: nil, refusal: .unknownCard))
        let second = try issue(uses: 5)
        let swapped = issued.qr.replacingOccurrences(of: issued.pass.id, with: second.pass.id)
        #expect(try fixture.store.consumeVisitorPass(qr: swapped, door: "main").passID == nil)
        var signature = Array(issued.qr)
        signature[signature.count - 2] = signature[signature.count - 2] == "A" ? "B" : "A"
        #expect(try fixture.store.consumeVisitorPass(qr: String(signature), door: "main").passID == nil)
        for junk in ["", "OGV1", "hello", String(repeating: "x", count: 1000), issued.qr + ".", issued.qr + "="] {
            #expect(try fixture.store.consumeVisitorPass(qr: junk, door: "main").refusal == .unknownCard)
        }

        // Signed by another site (another device key): refused.
        let elsewhere = try StoreFixture()
        let foreign = try elsewhere.store.issueVisitorPass(doors: ["main"], validFor: .seconds(3600), uses: 1, name: nil, operator: "t")
        #expect(try fixture.store.consumeVisitorPass(qr: foreign.qr, door: "main").passID == nil)

        try fixture.store.revokeVisitorPass(id: issued.pass.id, operator: "test")
        #expect(try fixture.store.consumeVisitorPass(qr: issued.qr, door: "main").refusal == .passRevoked)
        #expect(try fixture.store.consumeVisitorPass(code: PIN(issued.code)!, door: "main")?.refusal == .passRevoked)
        #expect(throws: VisitorPassError.alreadyRevoked(issued.pass.id)) { try fixture.store.revokeVisitorPass(id: issued.pass.id, operator: "t") }
        #expect(throws: VisitorPassError.notFound("v000000000000")) { try fixture.store.revokeVisitorPass(id: "v000000000000", operator: "t") }

        fixture.clock.advance(days: 1)
        #expect(try fixture.store.consumeVisitorPass(qr: second.qr, door: "main").refusal == .expired)
        #expect(try fixture.store.consumeVisitorPass(code: PIN(second.code)!, door: "main")?.refusal == .expired)
    }

    @Test func twoGatesRacingForTheLastUseSpendItOnce() async throws {
        let issued = try issue(uses: 1)
        // A second process's connection to the same file, as a second gate daemon would have.
        let second = try GateDatabase(stateDirectory: fixture.directory, now: { [clock = fixture.clock] in clock.now })
        let code = PIN(issued.code)!
        let stores = [fixture.store, second]
        let granted = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<8 {
                group.addTask {
                    guard let decision = try? stores[index % 2].consumeVisitorPass(code: code, door: "main") else { return false }
                    return decision.refusal == nil
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 1)
        #expect(try fixture.store.visitorPasses()[0].usesLeft == 0)
    }

    @Test func theSchemaRefusesToGiveUsesBackOrUnrevoke() throws {
        let issued = try issue(uses: 1)
        _ = try fixture.store.consumeVisitorPass(code: PIN(issued.code)!, door: "main")
        try fixture.store.revokeVisitorPass(id: issued.pass.id, operator: "t")
        let raw = try fixture.raw()
        #expect(throws: (any Error).self) { try raw.write { try $0.execute(sql: "UPDATE visitorPass SET usesLeft = 1") } }
        #expect(throws: (any Error).self) { try raw.write { try $0.execute(sql: "UPDATE visitorPass SET revokedAt = NULL") } }
    }
}
