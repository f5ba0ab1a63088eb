import Foundation
import GRDB
import GateCore
import GateStore
import Testing

/// Consent scope in the store: templates carry the scope of the consent in force, the decision-time
/// re-check names an out-of-scope door, and a new grant changes the scope without losing templates.
@Suite struct ConsentScopeStoreTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    @Test func templatesCarryTheirScopeAndTheDecisionReCheckKnowsTheDoor() throws {
        let id = try fixture.resident()
        _ = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .kiosk, operator: "t", scope: ["side"])
        try fixture.store.storeFaceTemplate(residentID: id, embedder: "e", embedding: [1, 2], operator: "t")
        #expect(try fixture.store.activeFaceTemplates().map(\.scope) == [ConsentScope("side")])
        let atMain = try fixture.store.faceHolder(residentID: id, door: "main")
        #expect(atMain.holder == nil && !atMain.inScope)
        let atSide = try fixture.store.faceHolder(residentID: id, door: "side")
        #expect(atSide.holder?.residentID == id && atSide.inScope)
    }

    @Test func aNewGrantChangesTheScopeKeepsTheTemplatesAndBumpsTheIndexVersion() throws {
        let id = try fixture.resident()
        let first = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .kiosk, operator: "t",
                                                   scope: ["side"])
        try fixture.store.storeFaceTemplate(residentID: id, embedder: "e", embedding: [1, 2], operator: "t")
        #expect(throws: GateStoreError.consentAlreadyActive(residentID: id)) {
            try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .kiosk, operator: "t", scope: ["side"])
        }
        let version = try fixture.store.faceIndexVersion()
        let second = try fixture.store.grantConsent(residentID: id, notice: try fixture.notice(), method: .kiosk, operator: "t",
                                                    scope: ["*"])
        #expect(second.id > first.id)
        #expect(try fixture.store.faceIndexVersion() > version, "the recogniser rebuilds its index")
        #expect(try fixture.store.activeFaceTemplates().map(\.scope) == [.everyDoor], "the template follows the new grant")
        #expect(try fixture.store.faceHolder(residentID: id, door: "main").inScope)
        #expect(try fixture.store.consentHistory(residentID: id).map(\.scope) == [["side"], ["*"]], "the ledger keeps both")
        let (_, deleted) = try fixture.store.withdrawConsent(residentID: id, method: .kiosk, operator: "t")
        #expect(deleted == 1)
    }
}
