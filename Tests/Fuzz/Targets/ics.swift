// Fuzz target: the iCalendar reader behind `optgate calendar import`. Any bytes either give events whose
// days are well-formed and bounded, or an error naming a line of the input; never a crash or a hang.
import GateCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let lines = ICalendar.physicalLines(text).count
    do {
        let events = try ICalendar.parse(text)
        var total = 0
        for event in events {
            let length = event.end.dayNumber - event.start.dayNumber
            require(length >= 1 && length <= ICalendar.maximumEventDays, "an event of \(length) days")
            require(event.line >= 1 && event.line <= lines, "an event on line \(event.line) of \(lines)")
            total += length
        }
        require(total <= ICalendar.maximumDays, "more days than the limit")
        let days = ICalendar.days(of: events)
        require(days.count <= total)
        for (day, _) in days { require(LocalDate(day.description) == day, "a day that does not read back") }
    } catch {
        require(error.line >= 1 && error.line <= max(1, lines), "an error on line \(error.line) of \(lines)")
        require(!error.problem.isEmpty)
    }
    return 0
}
