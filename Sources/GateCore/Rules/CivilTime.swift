/// A day of the civil (proleptic Gregorian) calendar at the site, without a time or a zone.
public struct LocalDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    /// `nil` unless `year`-`month`-`day` is a real date in 1900–2200.
    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2200).contains(year), (1...12).contains(month), day >= 1,
              day <= LocalDate.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// The day `dayNumber` days after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Parses `YYYY-MM-DD` (or `YYYYMMDD` with `compact`).
    public init?(_ text: some StringProtocol, compact: Bool = false) {
        let digits = Array(text.utf8)
        let expected = compact ? 8 : 10
        guard digits.count == expected else { return nil }
        if !compact, digits[4] != UInt8(ascii: "-") || digits[7] != UInt8(ascii: "-") { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in digits[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        let (m, d) = compact ? (4..<6, 6..<8) : (5..<7, 8..<10)
        guard let year = number(0..<4), let month = number(m), let day = number(d) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public var weekday: Weekday {
        // 1970-01-01 was a Thursday.
        let index = ((dayNumber + 3) % 7 + 7) % 7
        return Weekday.allCases[index]
    }

    public func adding(days: Int) -> LocalDate { LocalDate(dayNumber: dayNumber + days) }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool { lhs.dayNumber < rhs.dayNumber }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A day of the week, Monday first (ISO 8601).
public enum Weekday: String, Sendable, Hashable, CaseIterable, Codable {
    case mon, tue, wed, thu, fri, sat, sun

    public var index: Int { Weekday.allCases.firstIndex(of: self)! }
    public var isWeekend: Bool { self == .sat || self == .sun }

    /// Parses a `--days` list: `mon-fri`, `sat,sun`, `mon,wed-fri`, `daily`. Ranges may wrap (`fri-mon`).
    public static func parseList(_ text: String) -> Set<Weekday>? {
        if text == "daily" || text == "all" { return Set(allCases) }
        var days = Set<Weekday>()
        for part in text.lowercased().split(separator: ",", omittingEmptySubsequences: false) {
            let ends = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(ends.count), let first = Weekday(rawValue: String(ends[0])),
                  let last = Weekday(rawValue: String(ends[ends.count - 1])) else { return nil }
            var index = first.index
            while true {
                days.insert(allCases[index])
                if index == last.index { break }
                index = (index + 1) % 7
            }
        }
        return days
    }
}

/// The site's time zone as a table of UTC offsets, so that GateCore can turn a `WallTime` into local
/// civil time without Foundation. GateStore builds it from the system's zone database (`site.timeZone`).
public struct SiteTimeZone: Sendable, Hashable {
    /// The zone's name, e.g. `Asia/Shanghai`.
    public var identifier: String
    /// The offset (seconds east of UTC) before the first transition.
    public var initialOffset: Int
    /// From each `at` on (inclusive), the offset is `offset`; sorted by `at`.
    public var transitions: [Transition]

    public struct Transition: Sendable, Hashable {
        public var at: WallTime
        public var offset: Int
        public init(at: WallTime, offset: Int) {
            self.at = at
            self.offset = offset
        }
    }

    public init(identifier: String, initialOffset: Int, transitions: [Transition] = []) {
        self.identifier = identifier
        self.initialOffset = initialOffset
        self.transitions = transitions.sorted { $0.at < $1.at }
    }

    public static let utc = SiteTimeZone(identifier: "UTC", initialOffset: 0)
    /// China Standard Time, without daylight saving since 1991.
    public static let shanghai = SiteTimeZone(identifier: "Asia/Shanghai", initialOffset: 8 * 3600)

    /// The offset in seconds east of UTC at `wall`.
    public func offset(at wall: WallTime) -> Int {
        var low = 0, high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle].at <= wall { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? initialOffset : transitions[low - 1].offset
    }

    /// The local date and the milliseconds since local midnight at `wall`.
    public func local(_ wall: WallTime) -> (date: LocalDate, millisecond: Int64) {
        let local = wall.millisecondsSince1970 + Int64(offset(at: wall)) * 1000
        let day = local >= 0 ? local / 86_400_000 : (local - 86_399_999) / 86_400_000
        return (LocalDate(dayNumber: Int(day)), local - day * 86_400_000)
    }

    /// The wall time of `minute` minutes after local midnight of `date` (the first such instant when a
    /// transition repeats the hour, the instant after the gap when it skips it).
    public func wallTime(of date: LocalDate, minute: Int) -> WallTime {
        let local = (Int64(date.dayNumber) * 1440 + Int64(minute)) * 60_000
        var guess = WallTime(millisecondsSince1970: local - Int64(offset(at: WallTime(millisecondsSince1970: local))) * 1000)
        let second = WallTime(millisecondsSince1970: local - Int64(offset(at: guess)) * 1000)
        if second < guess { guess = second }
        return guess
    }
}
