import Foundation
import GateCore
import Testing

/// The rules as a pure value: validity, groups, schedules in the site's civil time, the site calendar
/// (holidays and make-up workdays), passage and the next change.
@Suite struct AccessRulesTests {
    /// Shanghai local time as a wall time (UTC+8, no daylight saving).
    static func shanghai(_ year: Int, _ month: Int, _ day: Int, _ hour: Int, _ minute: Int = 0) -> WallTime {
        SiteTimeZone.shanghai.wallTime(of: LocalDate(year: year, month: month, day: day)!, minute: hour * 60 + minute)
    }

    static func segments(_ texts: String...) -> [TimeSegment] { texts.map { TimeSegment($0)! } }

    static let officeHours: TimeProfile = {
        let weekday = segments("07:00-12:00", "13:00-19:30")
        return try! TimeProfile(name: "office", week: [weekday, weekday, weekday, weekday, weekday, [], []])
    }()

    static func rules(calendar: HolidayCalendar = HolidayCalendar(), passage: [String: String] = [:]) -> AccessRules {
        AccessRules(zone: .shanghai, profiles: [officeHours], calendar: calendar,
                    groups: [AccessGroup(name: "staff", doors: ["main"], profile: "office", mode: .any),
                             AccessGroup(name: "garage", doors: ["garage"], mode: .cardPin),
                             AccessGroup(name: "secure", doors: ["main", "garage"], profile: "office", mode: .facePin)],
                    passage: passage)
    }

    static let staff = CredentialHolder(residentID: "r1", validUntil: nil, groups: ["staff"])

    @Test func localTimeIsTheSiteZonesNotUTC() {
        // 2026-11-30 01:30 UTC is 09:30 on Monday in Shanghai.
        let wall = WallTime(millisecondsSince1970: 1_795_996_800_000 + 90 * 60_000)
        let local = SiteTimeZone.shanghai.local(wall)
        #expect(local.date.description == "2026-11-30")
        #expect(local.date.weekday == .mon)
        #expect(local.millisecond == 9 * 3_600_000 + 30 * 60_000)
        #expect(SiteTimeZone.utc.local(wall).millisecond == 90 * 60_000)
        #expect(Self.shanghai(2026, 11, 30, 9, 30) == wall)
    }

    @Test func localDateRoundTripsAndKnowsWeekdays() {
        for number in stride(from: -25_000, through: 80_000, by: 37) {
            let date = LocalDate(dayNumber: number)
            #expect(date.dayNumber == number)
            #expect(LocalDate(date.description) == date)
        }
        #expect(LocalDate("2026-01-01")!.weekday == .thu)
        #expect(LocalDate("2024-02-29") != nil && LocalDate("2026-02-29") == nil && LocalDate("2026-13-01") == nil)
        #expect(Weekday.parseList("mon-fri") == [.mon, .tue, .wed, .thu, .fri])
        #expect(Weekday.parseList("sat,sun") == [.sat, .sun])
        #expect(Weekday.parseList("fri-mon") == [.fri, .sat, .sun, .mon])
        #expect(Weekday.parseList("monday") == nil && Weekday.parseList("") == nil)
    }

    @Test func segmentsParseStrictly() {
        #expect(TimeSegment("07:00-12:00")?.description == "07:00-12:00")
        #expect(TimeSegment("00:00-24:00") != nil)
        for bad in ["7:00-12:00", "12:00-07:00", "08:00-08:00", "08:60-09:00", "24:30-24:40", "08:00", "08:00-09:00-10:00", "aa:bb-cc:dd"] {
            #expect(TimeSegment(bad) == nil, "\(bad)")
        }
        let nine = Array(repeating: TimeSegment("08:00-09:00")!, count: 9)
        #expect(throws: RuleError.self) { try TimeProfile(name: "x", week: Array(repeating: nine, count: 7)) }
    }

    @Test func residentsWithoutGroupsKeepTodaysBehaviour() {
        let holder = CredentialHolder(residentID: "r0", validUntil: nil)
        #expect(Self.rules().verdict(for: holder, door: "main", at: Self.shanghai(2026, 11, 29, 3)) == .allowed(.any))
        #expect(AccessRules.open.verdict(for: holder, door: "anything", at: Self.shanghai(2026, 11, 29, 3)) == .allowed(.any))
        #expect(AccessRules.open.nextChange(after: Self.shanghai(2026, 11, 29, 3)) == nil)
    }

    @Test func scheduleIsReadInTheSiteZone() {
        let rules = Self.rules()
        // Monday 2026-11-30: 07:00–12:00 and 13:00–19:30 Shanghai time.
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 11, 30, 6, 59)) == .denied(.outsideSchedule))
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 11, 30, 7, 0)) == .allowed(.any))
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 11, 30, 12, 30)) == .denied(.outsideSchedule))
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 11, 30, 19, 29)) == .allowed(.any))
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 11, 30, 19, 30)) == .denied(.outsideSchedule))
        // 08:00 Shanghai is 00:00 UTC: read in UTC it would be outside the schedule.
        let utc = AccessRules(zone: .utc, profiles: Array(rules.profiles.values), groups: Array(rules.groups.values))
        #expect(utc.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 11, 30, 8)) == .denied(.outsideSchedule))
        // Sunday: closed.
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 11, 29, 10)) == .denied(.outsideSchedule))
    }

    @Test func doorsOutsideEveryGroupAreNotInGroup() {
        #expect(Self.rules().verdict(for: Self.staff, door: "garage", at: Self.shanghai(2026, 11, 30, 10)) == .denied(.notInGroup))
        let unknownGroup = CredentialHolder(residentID: "r1", validUntil: nil, groups: ["gone"])
        #expect(Self.rules().verdict(for: unknownGroup, door: "main", at: Self.shanghai(2026, 11, 30, 10)) == .denied(.notInGroup))
    }

    @Test func validityComesFirst() {
        let now = Self.shanghai(2026, 11, 30, 10)
        let movingIn = CredentialHolder(residentID: "r1", validFrom: now.adding(days: 1), validUntil: nil, groups: ["staff"])
        let movedOut = CredentialHolder(residentID: "r1", validUntil: now, groups: ["staff"])
        #expect(Self.rules().verdict(for: movingIn, door: "garage", at: now) == .denied(.notYetValid))
        #expect(Self.rules().verdict(for: movedOut, door: "garage", at: now) == .denied(.expired))
        #expect(Self.rules().verdict(for: movingIn, door: "main", at: now.adding(days: 1)) == .allowed(.any))
    }

    @Test func theLeastDemandingOpenGroupSetsTheModeAndFaceFallsBackToCard() {
        let rules = Self.rules()
        let both = CredentialHolder(residentID: "r1", validUntil: nil, groups: ["secure", "garage"], hasFace: true)
        #expect(rules.verdict(for: both, door: "garage", at: Self.shanghai(2026, 11, 30, 10)) == .allowed(.cardPin))
        let secure = CredentialHolder(residentID: "r1", validUntil: nil, groups: ["secure"], hasFace: true)
        #expect(rules.verdict(for: secure, door: "main", at: Self.shanghai(2026, 11, 30, 10)) == .allowed(.facePin))
        var noFace = secure
        noFace.hasFace = false
        #expect(rules.verdict(for: noFace, door: "main", at: Self.shanghai(2026, 11, 30, 10)) == .allowed(.cardPin))
        // The garage group has no profile: always open, even at 3 a.m. on a Sunday.
        #expect(rules.verdict(for: both, door: "garage", at: Self.shanghai(2026, 11, 29, 3)) == .allowed(.cardPin))
    }

    @Test func holidaysUseTheHolidayPlanAndMakeUpWorkdaysTheWeekdayPlan() throws {
        let calendar = HolidayCalendar(days: [LocalDate("2026-10-01")!: .holiday, LocalDate("2026-09-20")!: .workday])
        var rules = Self.rules(calendar: calendar)
        // Thursday 1 October is a holiday, and the office profile has no holiday plan: closed.
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 10, 1, 10)) == .denied(.outsideSchedule))
        // Sunday 20 September is a make-up workday: open like a Monday.
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 9, 20, 10)) == .allowed(.any))
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 9, 27, 10)) == .denied(.outsideSchedule))
        // With a holiday plan, the holiday follows it.
        var profile = Self.officeHours
        profile.holiday = Self.segments("09:00-11:00")
        rules.profiles["office"] = profile
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 10, 1, 10)) == .allowed(.any))
        #expect(rules.verdict(for: Self.staff, door: "main", at: Self.shanghai(2026, 10, 1, 14)) == .denied(.outsideSchedule))
    }

    @Test func profilesHaveAValidDateRange() throws {
        let always = Self.segments("00:00-24:00")
        let summer = try TimeProfile(name: "summer", week: Array(repeating: always, count: 7),
                                     validFrom: LocalDate("2026-07-01"), validUntil: LocalDate("2026-08-31"))
        let rules = AccessRules(zone: .shanghai, profiles: [summer], groups: [AccessGroup(name: "pool", doors: ["pool"], profile: "summer")])
        let swimmer = CredentialHolder(residentID: "r1", validUntil: nil, groups: ["pool"])
        #expect(rules.verdict(for: swimmer, door: "pool", at: Self.shanghai(2026, 6, 30, 23, 59)) == .denied(.outsideSchedule))
        #expect(rules.verdict(for: swimmer, door: "pool", at: Self.shanghai(2026, 7, 1, 0)) == .allowed(.any))
        #expect(rules.verdict(for: swimmer, door: "pool", at: Self.shanghai(2026, 8, 31, 23, 59)) == .allowed(.any))
        #expect(rules.verdict(for: swimmer, door: "pool", at: Self.shanghai(2026, 9, 1, 0)) == .denied(.outsideSchedule))
        #expect(throws: RuleError.self) {
            try TimeProfile(name: "x", week: Array(repeating: always, count: 7), validFrom: LocalDate("2026-09-01"), validUntil: LocalDate("2026-08-01"))
        }
    }

    @Test func passageFollowsItsProfile() {
        let rules = Self.rules(passage: ["main": "office"])
        #expect(rules.isPassage(door: "main", at: Self.shanghai(2026, 11, 30, 8)))
        #expect(!rules.isPassage(door: "main", at: Self.shanghai(2026, 11, 30, 12, 15)))
        #expect(!rules.isPassage(door: "garage", at: Self.shanghai(2026, 11, 30, 8)))
    }

    @Test func nextChangeIsTheNextSegmentEdgeOrLocalMidnight() {
        let rules = Self.rules()
        #expect(rules.nextChange(after: Self.shanghai(2026, 11, 30, 6)) == Self.shanghai(2026, 11, 30, 7))
        #expect(rules.nextChange(after: Self.shanghai(2026, 11, 30, 7)) == Self.shanghai(2026, 11, 30, 12))
        #expect(rules.nextChange(after: Self.shanghai(2026, 11, 30, 12, 30)) == Self.shanghai(2026, 11, 30, 13))
        #expect(rules.nextChange(after: Self.shanghai(2026, 11, 30, 20)) == Self.shanghai(2026, 12, 1, 0))
        // Sunday has no segments: midnight (16:00 UTC), not UTC midnight.
        #expect(rules.nextChange(after: Self.shanghai(2026, 11, 29, 3)) == Self.shanghai(2026, 11, 30, 0))
    }

    @Test func zoneTablesFollowTransitions() {
        // A made-up zone at +1 h that moves to +2 h at 2026-03-29 01:00 UTC (like Europe/Berlin).
        let switchAt = WallTime(millisecondsSince1970: 1_774_746_000_000)
        let zone = SiteTimeZone(identifier: "Test/Berlin", initialOffset: 3600, transitions: [.init(at: switchAt, offset: 7200)])
        #expect(zone.offset(at: WallTime(millisecondsSince1970: switchAt.millisecondsSince1970 - 1)) == 3600)
        #expect(zone.offset(at: switchAt) == 7200)
        #expect(zone.local(switchAt).millisecond == 3 * 3_600_000)
        #expect(zone.wallTime(of: LocalDate("2026-03-29")!, minute: 4 * 60) == switchAt.advanced(by: .seconds(3600)))
    }
}

/// R1 for groups: a mode may not leave a door where face is the only way in.
@Suite struct AccessGroupCheckTests {
    static let doors: [String: Set<AccessMethod>] = ["main": [.face, .card, .pin], "lobby": [.face, .pin], "garage": [.card]]

    @Test func facePinNeedsCardAndPinAtEveryDoor() throws {
        try AccessGroup(name: "g", doors: ["main"], mode: .facePin).check(doors: Self.doors)
        #expect(throws: RuleError.self) { try AccessGroup(name: "g", doors: ["main", "lobby"], mode: .facePin).check(doors: Self.doors) }
        do {
            try AccessGroup(name: "g", doors: ["lobby"], mode: .facePin).check(doors: Self.doors)
            Issue.record("a face+pin group at a door without cards was accepted")
        } catch {
            #expect(error.description.contains("face may never be the only way in"))
        }
    }

    @Test func otherModesNeedWhatTheyAskForAndDoorsMustExist() throws {
        try AccessGroup(name: "g", doors: ["garage", "lobby"], mode: .any).check(doors: Self.doors)
        #expect(throws: RuleError.self) { try AccessGroup(name: "g", doors: ["garage"], mode: .cardPin).check(doors: Self.doors) }
        #expect(throws: RuleError.self) { try AccessGroup(name: "g", doors: ["garage"], mode: .unitPin).check(doors: Self.doors) }
        #expect(throws: RuleError.self) { try AccessGroup(name: "g", doors: ["nowhere"]).check(doors: Self.doors) }
    }
}
