import Foundation
public import GateCore

extension SiteTimeZone {
    /// The zone `identifier` from the system's zone database as an offset table covering `years`;
    /// `nil` when the system does not know the zone.
    public static func load(identifier: String, years: ClosedRange<Int> = 1970...2100) -> SiteTimeZone? {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let start = calendar.date(from: DateComponents(year: years.lowerBound, month: 1, day: 1)),
              let end = calendar.date(from: DateComponents(year: years.upperBound + 1, month: 1, day: 1)) else { return nil }
        var transitions: [Transition] = []
        var cursor = start
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next < end, transitions.count < 10_000 {
            transitions.append(Transition(at: WallTime(millisecondsSince1970: Int64((next.timeIntervalSince1970 * 1000).rounded())),
                                      offset: zone.secondsFromGMT(for: next)))
            cursor = next
        }
        return SiteTimeZone(identifier: identifier, initialOffset: zone.secondsFromGMT(for: start), transitions: transitions)
    }
}
