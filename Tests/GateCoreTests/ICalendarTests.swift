import Foundation
import GateCore
import Testing

/// The iCalendar reader against the 2026 State Council arrangement and against broken files.
@Suite struct ICalendarTests {
    static var fixture: String {
        get throws {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/calendars/cn-2026.ics")
            return try String(contentsOf: url, encoding: .utf8)
        }
    }

    @Test func readsTheOfficial2026Arrangement() throws {
        let events = try ICalendar.parse(Self.fixture)
        #expect(events.count == 13)
        let days = ICalendar.days(of: events)
        func kind(_ text: String) -> CalendarDayKind? { days[LocalDate(text)!] }
        // Holidays, including multi-day events, a DURATION and the last day of each.
        for holiday in ["2026-01-01", "2026-01-03", "2026-02-15", "2026-02-23", "2026-04-04", "2026-04-06", "2026-05-05",
                        "2026-06-21", "2026-09-25", "2026-10-01", "2026-10-07"] {
            #expect(kind(holiday) == .holiday, "\(holiday)")
        }
        // The make-up workdays (补班): 1/4 (Sun), 2/14 (Sat), 2/28 (Sat), 5/9 (Sat), 9/20 (Sun, date-time form), 10/10 (Sat).
        for workday in ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"] {
            #expect(kind(workday) == .workday, "\(workday)")
        }
        // DTEND is exclusive; the VALARM's "明天上班" inside the Spring Festival event does not count.
        #expect(kind("2026-01-05") == nil && kind("2026-02-24") == nil && kind("2026-04-07") == nil && kind("2026-10-08") == nil)
        #expect(days.count == 3 + 9 + 3 + 5 + 3 + 3 + 7 + 6)
        #expect(days.values.filter { $0 == .workday }.count == 6)
    }

    @Test func recognisesMakeUpWorkdays() throws {
        #expect(ICalendar.kind(summary: "补班", categories: "") == .workday)
        #expect(ICalendar.kind(summary: "国庆节调休上班", categories: "") == .workday)
        #expect(ICalendar.kind(summary: "Labour Day (make-up workday)", categories: "") == .workday)
        #expect(ICalendar.kind(summary: "春节", categories: "调休") == .holiday)
        #expect(ICalendar.kind(summary: "National Day", categories: "Holidays") == .holiday)
        let explicit = calendar(event: "DTSTART;VALUE=DATE:20261011\r\nSUMMARY:Site open day\r\nX-OPTGATE-KIND:workday")
        #expect(try ICalendar.parse(explicit).first?.kind == .workday)
        let forcedHoliday = calendar(event: "DTSTART;VALUE=DATE:20261011\r\nSUMMARY:值班\r\nX-OPTGATE-KIND:HOLIDAY")
        #expect(try ICalendar.parse(forcedHoliday).first?.kind == .holiday)
    }

    func calendar(event: String) -> String {
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n\(event)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    }

    @Test func unfoldsLinesAndUndoesEscapes() throws {
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nSUMMARY:New\n  Year\\, day\\;\n\tone\nEND:VEVENT\nEND:VCALENDAR\n"
        let event = try #require(try ICalendar.parse(text).first)
        #expect(event.summary == "New Year, day;one")
        #expect(event.start == LocalDate("2026-01-01") && event.end == LocalDate("2026-01-02"))
    }

    @Test(arguments: [
        ("VERSION:2.0\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR", 1, "BEGIN:VCALENDAR"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261301\r\nEND:VEVENT\r\nEND:VCALENDAR", 3, "not a date"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR", 2, "no DTSTART"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260105\r\nDTEND;VALUE=DATE:20260101\r\nEND:VEVENT\r\nEND:VCALENDAR", 5, "before it starts"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nEND:VCALENDAR", 4, "END:VEVENT was expected"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nEND:VEVENT", 4, "ends before END:VCALENDAR"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nno colon here\r\nEND:VEVENT\r\nEND:VCALENDAR", 4, "property name"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR", 4, "RRULE"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260101\r\nDTEND;VALUE=DATE:20300101\r\nEND:VEVENT\r\nEND:VCALENDAR", 5, "longer than"),
        ("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VEVENT", 3, "after END:VCALENDAR"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20260101T250000\r\nEND:VEVENT\r\nEND:VCALENDAR", 3, "date-time"),
    ])
    func malformedFilesNameTheLine(text: String, line: Int, problem: String) {
        do {
            _ = try ICalendar.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.line == line, "\(error)")
            #expect(error.description.contains(problem), "\(error)")
            #expect(error.description.hasPrefix("line \(line): "))
        }
    }

    @Test func dateTimesAreReadAsTheirDay() throws {
        let text = calendar(event: "DTSTART:20260501T090000\r\nDTEND:20260503T180000\r\nSUMMARY:x")
        let event = try #require(try ICalendar.parse(text).first)
        #expect(event.start == LocalDate("2026-05-01") && event.end == LocalDate("2026-05-04"))
        let midnight = calendar(event: "DTSTART:20260501T000000Z\r\nDTEND:20260503T000000Z\r\nSUMMARY:x")
        #expect(try ICalendar.parse(midnight).first?.end == LocalDate("2026-05-03"))
    }
}
