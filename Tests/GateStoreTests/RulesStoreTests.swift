import Foundation
import GRDB
import GateCore
import GateStore
import GateConfiguration
import Testing

/// The `rules-v1` tables: what `accessRules()` loads, what the holder lookups carry, the version
/// counter, the audit entries, and move-out's deletion of face data.
@Suite struct RulesStoreTests {
    let fixture: StoreFixture
    init() throws { fixture = try StoreFixture() }

    static let office = try! TimeProfile(
        name: "office", week: Array(repeating: [TimeSegment("07:00-19:00")!], count: 5) + [[], []],
        holiday: [TimeSegment("09:00-11:00")!], validFrom: LocalDate("2026-01-01"), validUntil: nil)

    @Test func rulesRoundTripAndEveryChangeBumpsTheVersionAndIsAudited() throws {
        let store = fixture.store
        let start = try store.rulesVersion()
        #expect(try store.accessRules(zone: .shanghai) == AccessRules(zone: .shanghai))
        try store.addSchedule(Self.office, operator: "t")
        let afterSchedule = try store.rulesVersion()
        #expect(afterSchedule > start)
        #expect(try store.schedules() == [Self.office])
        #expect(throws: GateStoreError.self) { try store.addSchedule(Self.office, operator: "t") }

        let events = try ICalendar.parse(String(contentsOf: Self.fixtureURL, encoding: .utf8))
        let counts = try store.importCalendar(name: "cn-2026", events: events, operator: "t")
        #expect(counts.holidays == 33 && counts.workdays == 6)
        // Importing again replaces, it does not add.
        try store.importCalendar(name: "cn-2026", events: events, operator: "t")
        #expect(try store.calendars().map(\.holidays) == [33])
        let afterCalendar = try store.rulesVersion()
        #expect(afterCalendar > afterSchedule)

        try store.addGroup(AccessGroup(name: "staff", doors: ["main", "garage"], profile: "office", mode: .cardPin), operator: "t")
        #expect(throws: GateStoreError.self) {
            try store.addGroup(AccessGroup(name: "ghost", doors: ["main"], profile: "no such schedule"), operator: "t")
        }
        try store.setPassage(door: "main", profile: "office", operator: "t")
        #expect(try store.rulesVersion() > afterCalendar)

        let rules = try store.accessRules(zone: .shanghai)
        #expect(rules.profiles["office"] == Self.office)
        #expect(rules.groups["staff"] == AccessGroup(name: "staff", doors: ["main", "garage"], profile: "office", mode: .cardPin))
        #expect(rules.passage == ["main": "office"])
        #expect(rules.calendar.kind(of: LocalDate("2026-09-20")!) == .workday)
        #expect(rules.calendar.kind(of: LocalDate("2026-10-01")!) == .holiday)

        try store.setPassage(door: "main", profile: nil, operator: "t")
        #expect(try store.accessRules().passage.isEmpty)
        let actions = try store.auditEntries().compactMap(\.action)
        for action in ["schedule.add", "calendar.import", "group.add", "door.passage"] {
            #expect(actions.contains(action), "\(action)")
        }
        if case .broken(let seq, let problem) = try store.verifyAudit() { Issue.record("audit broken at \(seq): \(problem)") }
    }

    static var fixtureURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/calendars/cn-2026.ics")
    }

    @Test func holderLookupsCarryValidityGroupsAndFace() throws {
        let store = fixture.store
        let id = try fixture.resident()
        let uid = CardUID("04A1B2C3")!
        try store.addCard(residentID: id, uid: uid, operator: "t")
        try store.addSchedule(Self.office, operator: "t")
        try store.addGroup(AccessGroup(name: "staff", doors: ["main"], profile: "office"), operator: "t")
        try store.addGroup(AccessGroup(name: "garage", doors: ["garage"]), operator: "t")
        #expect(try store.holder(ofCard: uid) == CredentialHolder(residentID: id, validUntil: nil))

        let from = fixture.clock.now.adding(days: 2), until = fixture.clock.now.adding(days: 30)
        try store.updateResident(id, validFrom: .set(from), validUntil: .set(until), groups: ["staff", "garage"], operator: "t")
        _ = try store.grantConsent(residentID: id, notice: try fixture.notice(), method: .console, operator: "t")
        _ = try store.storeFaceTemplate(residentID: id, embedder: "test", embedding: [1, 2, 3], operator: "t")
        let holder = try #require(try store.holder(ofCard: uid))
        #expect(holder.validFrom == from && holder.validUntil == until)
        #expect(holder.groups.sorted() == ["garage", "staff"])
        #expect(holder.hasFace)
        #expect(try store.faceHolder(residentID: id, door: "main").holder == holder)
        // Every PIN lookup carries the same fields, the duress PIN's too: it must not slip past groups,
        // schedules or move-in because it is stored apart.
        let pin = PIN("48151623")!, duress = PIN("97531864")!
        try store.setPIN(residentID: id, pin: pin, operator: "t")
        try store.setDuressPIN(residentID: id, pin: duress, operator: "t")
        #expect(try store.holder(ofPIN: pin) == holder)
        let unit = try #require(KeypadUnit.code(of: "3-1501"))
        #expect(try store.holders(ofPIN: pin, unitCode: unit) == .one(holder))
        #expect(try store.duressHolder(ofPIN: duress, unitCode: nil) == holder)
        #expect(try store.duressHolder(ofPIN: duress, unitCode: unit) == holder)
        #expect(try store.duressHolder(ofPIN: pin, unitCode: nil) == nil, "the PIN is not the duress PIN")

        #expect(throws: GateStoreError.self) { try store.updateResident(id, groups: ["nope"], operator: "t") }
        #expect(throws: GateStoreError.self) { try store.updateResident(id, validUntil: .set(from.adding(days: -1)), operator: "t") }
        try store.updateResident(id, validFrom: .set(nil), groups: [], operator: "t")
        let back = try #require(try store.holder(ofCard: uid))
        #expect(back.validFrom == nil && back.groups.isEmpty && back.validUntil == until)
        #expect(try store.auditEntries().filter { $0.action == "resident.update" }.count == 2)
    }

    @Test func moveOutDeletesTemplatesWithdrawsConsentAndLeavesAReceipt() throws {
        let store = fixture.store
        let leaving = try fixture.resident("Leaving")
        let staying = try fixture.resident("Staying")
        for id in [leaving, staying] {
            _ = try store.grantConsent(residentID: id, notice: try fixture.notice(), method: .console, operator: "t")
            _ = try store.storeFaceTemplate(residentID: id, embedder: "test", embedding: [0.25, 0.5, 0.75], operator: "t")
        }
        let moveOut = fixture.clock.now.adding(days: 1)
        try store.updateResident(leaving, validUntil: .set(moveOut), operator: "t")
        #expect(try store.dueMoveOuts(at: fixture.clock.now).isEmpty)
        #expect(try store.nextMoveOut(after: fixture.clock.now) == moveOut)
        #expect(try store.moveOut(residentID: leaving, operator: "optgated") == nil, "not before validUntil")

        fixture.clock.advance(days: 1)
        #expect(try store.dueMoveOuts(at: fixture.clock.now) == [leaving])
        let receipt = try #require(try store.moveOut(residentID: leaving, operator: "optgated"))
        #expect(receipt.templatesDeleted == 1 && receipt.consentID != nil && !receipt.token.isEmpty)
        #expect(try store.resident(leaving).faceTemplates == 0)
        #expect(try store.resident(staying).faceTemplates == 1)
        #expect(try store.consentHistory(residentID: leaving).last?.action == .withdraw)
        let entry = try #require(try store.auditEntries().last)
        #expect(entry.seq == receipt.auditSeq && entry.action == "resident.moveOut" && entry.residentID == leaving)
        #expect(entry.detail?.contains("\"templatesDeleted\":\"1\"") == true)
        // Done once: nothing left to delete.
        #expect(try store.dueMoveOuts(at: fixture.clock.now).isEmpty)
        #expect(try store.moveOut(residentID: leaving, operator: "optgated") == nil)
        // The template's bytes are gone from the database file and its write-ahead log.
        #expect(try fixture.raw().read { try Int.fetchOne($0, sql: "SELECT count(*) FROM faceTemplate WHERE residentId = ?", arguments: [leaving]) } == 0)
        if case .broken(let seq, let problem) = try store.verifyAudit() { Issue.record("audit broken at \(seq): \(problem)") }
    }

    @Test func timeZonesLoadFromTheSystemDatabase() throws {
        let shanghai = try #require(SiteTimeZone.load(identifier: "Asia/Shanghai"))
        let now = WallTime(millisecondsSince1970: 1_795_996_800_000)
        #expect(shanghai.offset(at: now) == 8 * 3600)
        let berlin = try #require(SiteTimeZone.load(identifier: "Europe/Berlin"))
        #expect(berlin.offset(at: WallTime(millisecondsSince1970: 1_784_000_000_000)) == 7200, "summer 2026")
        #expect(berlin.offset(at: now) == 3600, "winter")
        #expect(SiteTimeZone.load(identifier: "Mars/Olympus_Mons") == nil)
    }
}
