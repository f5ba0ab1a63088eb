/// One open period of a day, from `start` up to (not including) `end`, in minutes after local midnight;
/// `end` may be 1440 (`24:00`).
public struct TimeSegment: Sendable, Hashable, CustomStringConvertible {
    public var start: Int
    public var end: Int

    public init?(start: Int, end: Int) {
        guard (0..<1440).contains(start), (1...1440).contains(end), start < end else { return nil }
        self.start = start
        self.end = end
    }

    /// Parses `HH:MM-HH:MM` (`00:00-24:00` is the whole day).
    public init?(_ text: some StringProtocol) {
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let start = Self.minute(ends[0]), let end = Self.minute(ends[1]) else { return nil }
        self.init(start: start, end: end)
    }

    static func minute(_ text: some StringProtocol) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              parts.allSatisfy({ $0.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) } }),
              let hours = Int(parts[0]), let minutes = Int(parts[1]), minutes < 60,
              hours < 24 || (hours == 24 && minutes == 0) else { return nil }
        return hours * 60 + minutes
    }

    public func contains(minute: Int) -> Bool { start <= minute && minute < end }

    public var description: String {
        func text(_ minute: Int) -> String {
            let hours = minute / 60, minutes = minute % 60
            return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
        }
        return "\(text(start))-\(text(end))"
    }
}

/// A time profile (ZKTeco's "time zone", Hikvision's "schedule template"): a week plan of up to eight
/// segments a day, an optional holiday plan, and a range of dates it is valid in.
public struct TimeProfile: Sendable, Hashable {
    /// The most segments one day may have (the common controller limit).
    public static let maximumSegments = 8

    public var name: String
    /// Seven plans, Monday first; an empty plan means closed all day.
    public var week: [[TimeSegment]]
    /// The plan on a holiday of the site calendar; `nil` means closed on holidays.
    public var holiday: [TimeSegment]?
    /// First and last valid day (inclusive); outside them the profile is closed.
    public var validFrom: LocalDate?
    public var validUntil: LocalDate?

    public init(name: String, week: [[TimeSegment]], holiday: [TimeSegment]? = nil,
                validFrom: LocalDate? = nil, validUntil: LocalDate? = nil) throws(RuleError) {
        guard week.count == 7 else { throw RuleError("a week plan has seven days") }
        for plan in week + [holiday ?? []] where plan.count > Self.maximumSegments {
            throw RuleError("a day may have at most \(Self.maximumSegments) time segments")
        }
        if let validFrom, let validUntil, validUntil < validFrom {
            throw RuleError("the profile's last day comes before its first day")
        }
        self.name = name
        self.week = week.map(Self.normalised)
        self.holiday = holiday.map(Self.normalised)
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// The segments that apply on `date`, given what the site calendar says about it.
    public func plan(on date: LocalDate, kind: CalendarDayKind?) -> [TimeSegment] {
        if let validFrom, date < validFrom { return [] }
        if let validUntil, validUntil < date { return [] }
        switch kind {
        case .holiday: return holiday ?? []
        // A make-up workday (调休) on a weekend follows the working-week plan: Monday's.
        case .workday: return date.weekday.isWeekend ? week[Weekday.mon.index] : week[date.weekday.index]
        case nil: return week[date.weekday.index]
        }
    }

    static func normalised(_ plan: [TimeSegment]) -> [TimeSegment] { plan.sorted { ($0.start, $0.end) < ($1.start, $1.end) } }
}

/// What the site calendar says about a date.
public enum CalendarDayKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// A public holiday (or a bridge day off): the holiday plan applies.
    case holiday
    /// A make-up workday (调休上班, 补班), usually a Saturday or Sunday: the working-week plan applies.
    case workday
}

/// The site's calendar: every imported calendar merged. A date marked both ways is a holiday.
public struct HolidayCalendar: Sendable, Hashable {
    public var days: [LocalDate: CalendarDayKind]

    public init(days: [LocalDate: CalendarDayKind] = [:]) { self.days = days }

    public func kind(of date: LocalDate) -> CalendarDayKind? { days[date] }

    /// Adds `other`'s days; where both mark a date, a holiday wins.
    public mutating func merge(_ other: [LocalDate: CalendarDayKind]) {
        days.merge(other) { $0 == .holiday || $1 == .holiday ? .holiday : .workday }
    }
}

/// An access group: which doors its members may use, when, and what they present there.
public struct AccessGroup: Sendable, Hashable {
    public var name: String
    public var doors: Set<String>
    /// The time profile's name; `nil` means always.
    public var profile: String?
    public var mode: VerifyMode

    public init(name: String, doors: Set<String>, profile: String? = nil, mode: VerifyMode = .any) {
        self.name = name
        self.doors = doors
        self.profile = profile
        self.mode = mode
    }
}

/// A rule that cannot be built as given, in a sentence.
public struct RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension AccessGroup {
    /// Refuses a group that names a door the gate does not have, or asks for credentials a door does not
    /// accept. A `face+pin` group needs doors that accept card and PIN as well: a resident without a face
    /// template (or who withdraws consent) uses card + PIN there, so face is never the only way in (R1).
    /// - Parameter doors: the configured doors and the methods each accepts.
    public func check(doors configured: [String: Set<AccessMethod>]) throws(RuleError) {
        for door in doors.sorted() {
            guard let methods = configured[door] else {
                throw RuleError("there is no door \"\(door)\" in the configuration (doors: \(configured.keys.sorted().joined(separator: ", ")))")
            }
            let needed: Set<AccessMethod>
            switch mode {
            case .any: needed = []
            case .cardPin: needed = [.card, .pin]
            case .facePin: needed = [.face, .card, .pin]
            case .unitPin: needed = [.pin]
            }
            let missing = needed.subtracting(methods)
            guard missing.isEmpty else {
                let names = missing.map(\.rawValue).sorted().joined(separator: " and ")
                let why = mode == .facePin && !missing.contains(.face)
                    ? ": face may never be the only way in, so residents without a face template use card + PIN there" : ""
                throw RuleError("door \"\(door)\" does not accept \(names), which mode \(mode.rawValue) needs\(why)")
            }
        }
    }
}
