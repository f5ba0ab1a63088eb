/// A reader for the part of RFC 5545 (iCalendar) that holiday calendars use: `VEVENT`s with all-day
/// (`VALUE=DATE`) or date-time `DTSTART`/`DTEND` (or a whole-day `DURATION`), multi-day events,
/// `SUMMARY` and `CATEGORIES`. Folded lines are unfolded, TEXT escapes are undone, other components
/// (`VTIMEZONE`, `VALARM`, …) and unknown properties are skipped. Anything it cannot read exactly is an
/// error naming the line, and nothing is imported.
///
/// **Make-up workdays** (调休上班, 补班) are recognised, in this order:
/// 1. `X-OPTGATE-KIND:workday` or `X-OPTGATE-KIND:holiday` on the event decides;
/// 2. otherwise an event whose `SUMMARY` or `CATEGORIES` contains 班 (补班, 上班, 调休上班 — how the
///    Chinese official-holiday calendars mark them) or, in any case, `workday`, `working day` or
///    `make-up` is a workday;
/// 3. every other event is a holiday.
///
/// A date-time is read as the date written in it (the calendars publish whole days); a date-time end is
/// exclusive at midnight and inclusive otherwise.
public enum ICalendar {
    /// One event, as whole days.
    public struct Event: Sendable, Hashable {
        public var start: LocalDate
        /// The day after the last day of the event.
        public var end: LocalDate
        public var summary: String
        public var kind: CalendarDayKind
        /// The line of its `BEGIN:VEVENT`.
        public var line: Int
    }

    /// The longest event accepted, in days.
    public static let maximumEventDays = 366
    /// The most days one file may mark.
    public static let maximumDays = 20_000

    /// Reads every event of `text`. - Throws: `ICalendarError` naming the first line it cannot read.
    public static func parse(_ text: String) throws(ICalendarError) -> [Event] {
        var events: [Event] = []
        var stack: [String] = []
        var sawCalendar = false
        var ended = false
        var event: PendingEvent?
        var totalDays = 0
        for (line, content) in unfold(text) {
            if content.isEmpty { continue }
            if ended { throw ICalendarError(line: line, problem: "there is content after END:VCALENDAR") }
            let property = try ContentLine(content, line: line)
            switch property.name {
            case "BEGIN":
                let component = property.value.uppercased()
                if stack.isEmpty {
                    guard component == "VCALENDAR", !sawCalendar else {
                        throw ICalendarError(line: line, problem: "the file must start with BEGIN:VCALENDAR")
                    }
                    sawCalendar = true
                } else if component == "VCALENDAR" {
                    throw ICalendarError(line: line, problem: "a VCALENDAR cannot be nested")
                }
                if component == "VEVENT" {
                    guard stack == ["VCALENDAR"] else { throw ICalendarError(line: line, problem: "a VEVENT must be directly inside the VCALENDAR") }
                    event = PendingEvent(line: line)
                }
                stack.append(component)
                guard stack.count <= 8 else { throw ICalendarError(line: line, problem: "components are nested too deeply") }
            case "END":
                let component = property.value.uppercased()
                guard let open = stack.last else {
                    throw ICalendarError(line: line, problem: "END:\(component) without a matching BEGIN")
                }
                guard open == component else {
                    throw ICalendarError(line: line, problem: "END:\(component) where END:\(open) was expected")
                }
                stack.removeLast()
                if component == "VEVENT", let pending = event {
                    let finished = try pending.finish(endLine: line)
                    totalDays += finished.end.dayNumber - finished.start.dayNumber
                    guard totalDays <= maximumDays else {
                        throw ICalendarError(line: line, problem: "the calendar marks more than \(maximumDays) days")
                    }
                    events.append(finished)
                    event = nil
                }
                if stack.isEmpty { ended = true }
            default:
                guard !stack.isEmpty else { throw ICalendarError(line: line, problem: "the file must start with BEGIN:VCALENDAR") }
                // Only the event's own properties, not those of a VALARM inside it.
                if stack.last == "VEVENT" { try event?.take(property) }
            }
        }
        guard sawCalendar else { throw ICalendarError(line: 1, problem: "the file must start with BEGIN:VCALENDAR") }
        guard ended else {
            throw ICalendarError(line: max(1, physicalLines(text).count),
                                 problem: "the file ends before END:\(stack.last ?? "VCALENDAR")")
        }
        return events
    }

    /// The days `events` mark; a day marked both ways is a holiday.
    public static func days(of events: [Event]) -> [LocalDate: CalendarDayKind] {
        var calendar = HolidayCalendar()
        for event in events {
            var days: [LocalDate: CalendarDayKind] = [:]
            for number in event.start.dayNumber..<event.end.dayNumber { days[LocalDate(dayNumber: number)] = event.kind }
            calendar.merge(days)
        }
        return calendar.days
    }

    /// Logical lines with the physical line number each starts on (RFC 5545 §3.1: a line starting with a
    /// space or a tab continues the previous one).
    static func unfold(_ text: String) -> [(Int, Substring)] {
        var lines: [(Int, Substring)] = []
        var current: (Int, String)?
        var number = 0
        for physical in physicalLines(text) {
            number += 1
            if let first = physical.first, first == " " || first == "\t", current != nil {
                current!.1 += physical.dropFirst()
                continue
            }
            if let current { lines.append((current.0, Substring(current.1))) }
            current = (number, String(physical))
        }
        if let current { lines.append((current.0, Substring(current.1))) }
        return lines
    }

    /// The lines of `text`, split at LF or CRLF (a Swift `Character` holds CRLF as one).
    public static func physicalLines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    }

    struct ContentLine {
        var name: String
        var parameters: [String: String]
        var value: String
        /// The line the property starts on.
        var line: Int

        init(_ content: Substring, line: Int) throws(ICalendarError) {
            self.line = line
            var name = ""
            var parameters: [String: String] = [:]
            var index = content.startIndex
            while index < content.endIndex, content[index] != ";", content[index] != ":" {
                name.append(content[index])
                index = content.index(after: index)
            }
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw ICalendarError(line: line, problem: "a line must start with a property name")
            }
            while index < content.endIndex, content[index] == ";" {
                index = content.index(after: index)
                var key = "", value = "", inValue = false, quoted = false
                while index < content.endIndex {
                    let character = content[index]
                    if character == "\"" { quoted.toggle() } else if !quoted && (character == ";" || character == ":") { break }
                    else if !inValue && character == "=" { inValue = true } else if inValue { value.append(character) } else { key.append(character) }
                    index = content.index(after: index)
                }
                guard inValue, !key.isEmpty, !quoted else {
                    throw ICalendarError(line: line, problem: "parameter \"\(key)\" of \(name) is not NAME=VALUE")
                }
                parameters[key.uppercased()] = value
            }
            guard index < content.endIndex, content[index] == ":" else {
                throw ICalendarError(line: line, problem: "\(name) has no \":\" before its value")
            }
            self.name = name.uppercased()
            self.parameters = parameters
            self.value = String(content[content.index(after: index)...])
        }
    }

    struct PendingEvent {
        var line: Int
        var start: (date: LocalDate, isDate: Bool)?
        var end: (date: LocalDate, midnight: Bool)?
        var durationDays: Int?
        var summary = ""
        var categories = ""
        var explicitKind: CalendarDayKind?

        init(line: Int) { self.line = line }

        mutating func take(_ property: ContentLine) throws(ICalendarError) {
            switch property.name {
            case "DTSTART":
                guard start == nil else { throw ICalendarError(line: property.line, problem: "the event has two DTSTART") }
                let value = try ICalendar.date(property)
                start = (value.date, value.isDate)
            case "DTEND":
                guard end == nil else { throw ICalendarError(line: property.line, problem: "the event has two DTEND") }
                let value = try ICalendar.date(property)
                end = (value.date, value.isDate || value.midnight)
            case "DURATION":
                durationDays = try ICalendar.days(inDuration: property)
            case "SUMMARY": summary = ICalendar.unescape(property.value)
            case "CATEGORIES": categories = ICalendar.unescape(property.value)
            case "RRULE", "RDATE":
                throw ICalendarError(line: property.line, problem: "recurring events (\(property.name)) are not supported: list each holiday as its own event")
            case "X-OPTGATE-KIND":
                guard let kind = CalendarDayKind(rawValue: property.value.lowercased()) else {
                    throw ICalendarError(line: property.line, problem: "X-OPTGATE-KIND must be workday or holiday")
                }
                explicitKind = kind
            default: break
            }
        }

        func finish(endLine: Int) throws(ICalendarError) -> Event {
            guard let start else { throw ICalendarError(line: line, problem: "the event has no DTSTART") }
            var last: LocalDate
            if let end {
                last = end.midnight ? end.date : end.date.adding(days: 1)
                if end.midnight && last == start.date && !start.isDate { last = last.adding(days: 1) }
            } else if let durationDays {
                last = start.date.adding(days: max(1, durationDays))
            } else {
                last = start.date.adding(days: 1)
            }
            guard start.date < last else {
                throw ICalendarError(line: endLine, problem: "the event ends (DTEND) before it starts (DTSTART)")
            }
            guard last.dayNumber - start.date.dayNumber <= ICalendar.maximumEventDays else {
                throw ICalendarError(line: endLine, problem: "the event is longer than \(ICalendar.maximumEventDays) days")
            }
            guard LocalDate(year: last.year, month: last.month, day: last.day) != nil else {
                throw ICalendarError(line: endLine, problem: "the event ends after 2200")
            }
            return Event(start: start.date, end: last, summary: summary, kind: explicitKind ?? ICalendar.kind(summary: summary, categories: categories),
                         line: line)
        }
    }

    /// The second rule of the make-up workday convention (see the type's documentation).
    public static func kind(summary: String, categories: String) -> CalendarDayKind {
        let text = summary + " " + categories
        let lower = text.lowercased()
        if text.contains("班") || lower.contains("workday") || lower.contains("working day") || lower.contains("make-up") {
            return .workday
        }
        return .holiday
    }

    static func date(_ property: ContentLine) throws(ICalendarError) -> (date: LocalDate, isDate: Bool, midnight: Bool) {
        let value = property.value
        let isDate = property.parameters["VALUE"]?.uppercased() == "DATE" || value.utf8.count == 8
        if isDate {
            guard let date = LocalDate(value, compact: true) else {
                throw ICalendarError(line: property.line, problem: "\(property.name) \"\(value.prefix(40))\" is not a date YYYYMMDD")
            }
            return (date, true, true)
        }
        let bytes = Array(value.utf8)
        guard bytes.count == 15 || (bytes.count == 16 && bytes[15] == UInt8(ascii: "Z")), bytes[8] == UInt8(ascii: "T"),
              let date = LocalDate(String(decoding: bytes[0..<8], as: UTF8.self), compact: true),
              let time = Int(String(decoding: bytes[9..<15], as: UTF8.self)), bytes[9..<15].allSatisfy({ $0 >= 48 && $0 <= 57 }),
              time / 10000 < 24, time / 100 % 100 < 60, time % 100 < 61
        else {
            throw ICalendarError(line: property.line, problem: "\(property.name) \"\(value.prefix(40))\" is not a date YYYYMMDD or a date-time YYYYMMDDTHHMMSS")
        }
        return (date, false, time == 0)
    }

    /// Whole days of a `DURATION` such as `P1D`, `P2W` or `P1DT0H0M0S`.
    static func days(inDuration property: ContentLine) throws(ICalendarError) -> Int {
        var text = Substring(property.value)
        if text.hasPrefix("+") { text = text.dropFirst() }
        guard text.hasPrefix("P") else {
            throw ICalendarError(line: property.line, problem: "DURATION \"\(property.value.prefix(40))\" is not like P1D")
        }
        text = text.dropFirst()
        var days = 0, number = 0, digits = 0, inTime = false
        for character in text {
            if let digit = character.wholeNumberValue, character.isASCII {
                number = number * 10 + digit
                digits += 1
                guard digits <= 6 else { break }
                continue
            }
            switch (character, inTime) {
            case ("W", false) where digits > 0: days += number * 7
            case ("D", false) where digits > 0: days += number
            case ("T", false) where digits == 0: inTime = true
            case ("H", true) where digits > 0, ("M", true) where digits > 0, ("S", true) where digits > 0:
                guard number == 0 else {
                    throw ICalendarError(line: property.line, problem: "DURATION must be whole days")
                }
            default:
                throw ICalendarError(line: property.line, problem: "DURATION \"\(property.value.prefix(40))\" is not like P1D")
            }
            number = 0
            digits = 0
        }
        guard digits == 0, days > 0, days <= maximumEventDays else {
            throw ICalendarError(line: property.line, problem: "DURATION must be 1 to \(maximumEventDays) whole days")
        }
        return days
    }

    /// Undoes TEXT escaping (`\\`, `\;`, `\,`, `\n`).
    static func unescape(_ value: String) -> String {
        var result = ""
        var escaped = false
        for character in value {
            if escaped {
                result.append(character == "n" || character == "N" ? "\n" : character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// An iCalendar file that cannot be imported, with the line to look at.
public struct ICalendarError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var problem: String

    public init(line: Int, problem: String) {
        self.line = line
        self.problem = problem
    }

    public var description: String { "line \(line): \(problem)" }
}
