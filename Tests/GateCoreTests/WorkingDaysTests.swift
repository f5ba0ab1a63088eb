import GateCore
import Testing

/// The CAC filing deadline (R14): 30 working days, counted with the site's holiday calendar.
@Suite struct WorkingDaysTests {
    func date(_ text: String) -> LocalDate { LocalDate(text)! }

    @Test func holidaysAreSkippedAndMakeUpWorkdaysCount() {
        var calendar = HolidayCalendar()
        for day in 1...7 { calendar.merge([date("2026-10-0\(day)"): .holiday]) }
        calendar.merge([date("2026-10-10"): .workday])
        #expect(calendar.isWorkingDay(date("2026-10-10")), "a make-up Saturday")
        #expect(!calendar.isWorkingDay(date("2026-10-05")), "a holiday Monday")
        #expect(!calendar.isWorkingDay(date("2026-10-11")), "an ordinary Sunday")
        // Monday 28 September: 29, 30 Sep; 8, 9, 10 (Sat) Oct; then five full weeks to Friday 13 November.
        #expect(calendar.adding(workingDays: 30, after: date("2026-09-28")) == date("2026-11-13"))
        #expect(HolidayCalendar().adding(workingDays: 30, after: date("2026-09-28")) == date("2026-11-09"))
        #expect(calendar.workingDays(after: date("2026-09-28"), through: date("2026-11-13")) == 30)
        #expect(calendar.workingDays(after: date("2026-11-13"), through: date("2026-11-13")) == 0)
    }

    @Test func parityRowsCountRatesAndNearestRankPercentiles() {
        let decisions = [ParityDecision(method: .card, granted: true, latencyMs: 30), ParityDecision(method: .card, granted: true, latencyMs: 10),
                         ParityDecision(method: .card, granted: false, latencyMs: 20), ParityDecision(method: .card, granted: false, latencyMs: nil, count: 7),
                         ParityDecision(method: .pin, granted: true, latencyMs: 900)]
        let rows = ParityRow.rows(decisions)
        #expect(rows.map(\.method) == ["face", "card", "pin", "visitor"])
        let card = rows[1]
        #expect(card.decisions == 10 && card.granted == 2 && card.denied == 8 && card.denialRate == 0.8)
        #expect(card.timed == 3 && card.p50Ms == 20 && card.p95Ms == 30)
        #expect(rows[0].decisions == 0 && rows[0].p50Ms == nil && rows[0].denialRate == 0)
        #expect(rows[2].p50Ms == 900 && rows[2].p95Ms == 900)
    }
}
