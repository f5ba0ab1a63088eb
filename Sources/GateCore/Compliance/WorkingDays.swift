extension HolidayCalendar {
    /// Whether `date` is a working day at the site: a make-up workday (调休上班) is, a holiday is not,
    /// otherwise Monday to Friday.
    public func isWorkingDay(_ date: LocalDate) -> Bool {
        switch kind(of: date) {
        case .workday: true
        case .holiday: false
        case nil: !date.weekday.isWeekend
        }
    }

    /// The `count`th working day after `date` (`date` itself not counted): the last day of a deadline of
    /// `count` working days, e.g. the CAC filing due 30 working days after 100,000 people's face data are stored (R14).
    public func adding(workingDays count: Int, after date: LocalDate) -> LocalDate {
        var day = date
        var left = count
        while left > 0 {
            day = day.adding(days: 1)
            if isWorkingDay(day) { left -= 1 }
        }
        return day
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`).
    public func workingDays(after from: LocalDate, through to: LocalDate) -> Int {
        guard from < to else { return 0 }
        return (1...(to.dayNumber - from.dayNumber)).filter { isWorkingDay(from.adding(days: $0)) }.count
    }
}

/// The filing counter (R14): distinct people whose face data the gate stores, the thresholds, and the
/// deadline once the filing threshold is reached.
public struct FilingStatus: Sendable, Hashable, Codable {
    /// Distinct residents with at least one stored face template.
    public var people: Int
    /// Warning thresholds (default 80,000 and 95,000).
    public var warnAt: [Int]
    /// The filing threshold (100,000 by the rules).
    public var filingThreshold: Int
    /// Thresholds already crossed, each alarmed once.
    public var crossed: [Int]
    /// When the filing threshold was first reached, if it was.
    public var filingReachedAt: WallTime?
    /// The last day to file (YYYY-MM-DD, site time), 30 working days after it was reached.
    public var filingDeadline: String?
    /// Working days left until the deadline (0 on or after it).
    public var workingDaysLeft: Int?

    public init(people: Int, warnAt: [Int], filingThreshold: Int, crossed: [Int], filingReachedAt: WallTime? = nil,
                filingDeadline: String? = nil, workingDaysLeft: Int? = nil) {
        self.people = people
        self.warnAt = warnAt
        self.filingThreshold = filingThreshold
        self.crossed = crossed
        self.filingReachedAt = filingReachedAt
        self.filingDeadline = filingDeadline
        self.workingDaysLeft = workingDaysLeft
    }

    /// One line for `status` and the report.
    public var summary: String {
        var text = "filing counter: \(people) people with face data (warnings at \(warnAt.map(String.init).joined(separator: ", ")), filing at \(filingThreshold))"
        if let filingDeadline {
            text += "; FILING DUE with the provincial CAC by \(filingDeadline) (\(workingDaysLeft ?? 0) working day(s) left)"
        } else if let next = (warnAt + [filingThreshold]).sorted().first(where: { $0 > people }) {
            text += "; next threshold \(next)"
        }
        return text
    }
}

/// The filing counter's thresholds (`compliance` section of the configuration).
public struct FilingThresholds: Sendable, Hashable {
    public var warnAt: [Int]
    public var filing: Int
    public var deadlineWorkingDays: Int

    public init(warnAt: [Int] = [80_000, 95_000], filing: Int = 100_000, deadlineWorkingDays: Int = 30) {
        self.warnAt = warnAt
        self.filing = filing
        self.deadlineWorkingDays = deadlineWorkingDays
    }
}
