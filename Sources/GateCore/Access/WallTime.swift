/// A point in civil time, in milliseconds since 1970-01-01T00:00:00Z.
///
/// `GateCore` has no clock of its own: callers pass the current wall time in, so policies are
/// deterministic and testable.
public struct WallTime: Sendable, Hashable, Comparable, Codable {
    public var millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    public static func < (lhs: WallTime, rhs: WallTime) -> Bool {
        lhs.millisecondsSince1970 < rhs.millisecondsSince1970
    }

    public func adding(days: Int) -> WallTime {
        WallTime(millisecondsSince1970: millisecondsSince1970 + Int64(days) * 86_400_000)
    }

    /// This time moved by `duration` (negative moves it back), to the millisecond.
    public func advanced(by duration: Duration) -> WallTime {
        let (seconds, attoseconds) = duration.components
        return WallTime(millisecondsSince1970: millisecondsSince1970 + seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }

    public init(from decoder: any Decoder) throws {
        millisecondsSince1970 = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(millisecondsSince1970)
    }
}
