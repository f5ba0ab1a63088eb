import Foundation
import GateCore
import GateStore
import Glibc

/// Dates typed on the command line, read strictly: `2000-02-30` or `2024-13-01` is refused instead of rolling
/// over into another day, and the accepted range keeps every stored time printable as ISO 8601 (four-digit
/// years).
enum CommandLineDate {
    /// Stated in `docs/cli.md` and in every refusal. The last day is 9999-12-30 because access given
    /// "through the end of" a day ends at the next midnight, which must still have a four-digit year.
    static let range = "1970-01-01 to 9999-12-30"
    /// Bounds on the instant, whatever the time zone: a day before 1970-01-01T00:00Z, 9999-12-31T23:59:59.999Z.
    private static let earliest = WallTime(millisecondsSince1970: -86_400_000)
    private static let latest = WallTime(millisecondsSince1970: 253_402_300_799_999)

    /// Parses `YYYY-MM-DD` (a local calendar day) or an ISO 8601 date-time `YYYY-MM-DDThh:mm[:ss[.fff]](Z|±hh:mm)`.
    /// - Parameter endOfDay: for a bare date, the instant the day ends (the next local midnight) instead of
    ///   the instant it starts.
    /// - Returns: `nil` for anything that is not a real date and time within ``range``.
    static func parse(_ text: String, endOfDay: Bool) -> WallTime? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, let year = number(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"), let month = number(bytes, 5, 2),
              bytes[7] == UInt8(ascii: "-"), let day = number(bytes, 8, 2),
              (1970...9999).contains(year), (1...12).contains(month), (1...daysIn(month, of: year)).contains(day),
              !(year == 9999 && month == 12 && day == 31)
        else { return nil }
        var components = DateComponents(year: year, month: month, day: day)
        var calendar = Calendar(identifier: .gregorian)
        if bytes.count == 10 {
            calendar.timeZone = .current
            if endOfDay { components.day = day + 1 }
        } else {
            guard let clock = time(Array(bytes[10...])), let zone = TimeZone(secondsFromGMT: clock.offset) else { return nil }
            calendar.timeZone = zone
            components.hour = clock.hour
            components.minute = clock.minute
            components.second = clock.second
            components.nanosecond = clock.nanosecond
        }
        guard let date = calendar.date(from: components) else { return nil }
        let time = WallTime(date)
        return (earliest...latest).contains(time) ? time : nil
    }

    /// `Thh:mm[:ss[.fraction]]` then `Z` or `±hh:mm` / `±hhmm`.
    private static func time(_ bytes: [UInt8]) -> (hour: Int, minute: Int, second: Int, nanosecond: Int, offset: Int)? {
        guard bytes.count >= 7, bytes[0] == UInt8(ascii: "T") || bytes[0] == UInt8(ascii: "t"),
              let hour = number(bytes, 1, 2), bytes[3] == UInt8(ascii: ":"), let minute = number(bytes, 4, 2),
              hour < 24, minute < 60
        else { return nil }
        var index = 6
        var second = 0, nanosecond = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            guard let value = number(bytes, index + 1, 2), value < 60 else { return nil }
            second = value
            index += 3
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                var digits = 0
                var fraction = 0
                while index < bytes.count, let digit = number(bytes, index, 1) {
                    guard digits < 9 else { return nil }
                    fraction = fraction * 10 + digit
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                nanosecond = fraction * Int(pow(10, Double(9 - digits)))
            }
        }
        guard index < bytes.count else { return nil }
        let zone = Array(bytes[index...])
        if zone == [UInt8(ascii: "Z")] || zone == [UInt8(ascii: "z")] { return (hour, minute, second, nanosecond, 0) }
        guard zone.count == 6 || zone.count == 5, zone[0] == UInt8(ascii: "+") || zone[0] == UInt8(ascii: "-"),
              let zoneHour = number(zone, 1, 2), zoneHour < 24
        else { return nil }
        let minuteStart = zone.count == 6 ? 4 : 3
        guard zone.count == 5 || zone[3] == UInt8(ascii: ":"), let zoneMinute = number(zone, minuteStart, 2), zoneMinute < 60 else {
            return nil
        }
        let offset = (zoneHour * 3600 + zoneMinute * 60) * (zone[0] == UInt8(ascii: "-") ? -1 : 1)
        return (hour, minute, second, nanosecond, offset)
    }

    /// `count` ASCII digits at `start`, or `nil`.
    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        guard start >= 0, start + count <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[start..<(start + count)] {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private static func daysIn(_ month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

/// A PIN given on standard input: one line of digits, nothing else.
enum PINInput {
    /// Longest input read; a PIN is at most a few digits.
    static let maximumBytes = 256

    /// Reads standard input (one typed line on a terminal, everything up to end of file from a pipe).
    static func read() throws -> PIN {
        if isatty(STDIN_FILENO) != 0 {
            FileHandle.standardError.write(Data("PIN (4–8 digits): ".utf8))
            return try parse(Array((readLine(strippingNewline: false) ?? "").utf8))
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64)
        while bytes.count <= maximumBytes {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(STDIN_FILENO, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[..<count]
        }
        return try parse(bytes)
    }

    /// - Throws: `CLIError` unless `bytes` is digits followed by at most one newline.
    static func parse(_ bytes: [UInt8]) throws -> PIN {
        var line = bytes[...]
        if line.last == UInt8(ascii: "\n") { line = line.dropLast() }
        if line.contains(UInt8(ascii: "\n")) {
            throw CLIError("standard input holds more than one line; give the PIN alone on one line, e.g. printf '482916\\n' | optgate pin set ID")
        }
        guard !line.isEmpty, line.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
              let pin = PIN(String(decoding: line, as: UTF8.self))
        else {
            throw CLIError("a PIN is 4 to 8 digits and nothing else (no spaces), given on standard input")
        }
        return pin
    }
}
