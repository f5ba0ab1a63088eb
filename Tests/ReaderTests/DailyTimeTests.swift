import GateConfiguration
import GateCore
import Testing

/// `antiPassbackDailyReset` is a time of day at the site, not in the gate box's system zone (often UTC).
@Suite struct DailyTimeTests {
    /// 2026-11-30T00:00:00Z: 08:00 in Shanghai.
    static let midnightUTC = WallTime(millisecondsSince1970: 1_795_996_800_000)

    @Test func theResetComesAtTheSitesLocalHour() {
        // 04:00 in Shanghai has passed at 08:00: the next is tomorrow's, 20 hours on (not 4, as in UTC).
        #expect(DailyTime("04:00")!.interval(after: Self.midnightUTC, in: .shanghai) == .seconds(20 * 3600))
        #expect(DailyTime("09:30")!.interval(after: Self.midnightUTC, in: .shanghai) == .seconds(90 * 60))
    }

    @Test func exactlyAtTheResetTheNextIsADayAway() {
        #expect(DailyTime("08:00")!.interval(after: Self.midnightUTC, in: .shanghai) == .seconds(86_400))
    }
}
