public import GateCore

/// The keys of one `readers[i]` entry with `"kind": "wiegand"` (docs/configuration.md#readers).
public struct WiegandReaderSettings: Sendable, Hashable {
    static let keys = ["chip", "d0", "d1", "frameGapMilliseconds", "minimumBitIntervalMicroseconds"]

    /// `chip` (string, required): `gpiochip0`, `/dev/gpiochip0` or (libgpiod 1.x) a chip label.
    public var chip = ""
    /// `d0`, `d1` (integers, required, distinct): the line offsets of DATA0 and DATA1 (through a level shifter).
    public var d0: UInt32 = 0
    public var d1: UInt32 = 0
    /// `frameGapMilliseconds` (integer, 5–100, default 25) and `minimumBitIntervalMicroseconds` (integer,
    /// 20–2000, default 100): the decoder's tolerances (`WiegandTiming`).
    public var timing = WiegandTiming()

    public init() {}

    static func parse(_ entry: inout ConfigObject) throws(ConfigurationError) -> WiegandReaderSettings {
        var settings = WiegandReaderSettings()
        settings.chip = try entry.string("chip", default: nil) ?? ""
        settings.d0 = UInt32(try entry.integer("d0", default: 0, range: 0...1023))
        settings.d1 = UInt32(try entry.integer("d1", default: 1, range: 0...1023))
        settings.timing = WiegandTiming(
            frameGap: .milliseconds(try entry.integer("frameGapMilliseconds", default: 25, range: 5...100)),
            minimumBitInterval: .microseconds(try entry.integer("minimumBitIntervalMicroseconds", default: 100, range: 20...2000))
        )
        return settings
    }

    /// Checks what only a wiegand reader needs.
    func validate(path: String, entry: ConfigObject) throws(ConfigurationError) {
        guard !chip.isEmpty else {
            throw ConfigurationError(key: "\(path).chip", problem: "a wiegand reader needs its GPIO chip, e.g. \"gpiochip0\"")
        }
        guard entry.has("d0"), entry.has("d1") else {
            throw ConfigurationError(key: "\(path).\(entry.has("d0") ? "d1" : "d0")", problem: "a wiegand reader needs the line offsets of D0 and D1")
        }
        guard d0 != d1 else { throw ConfigurationError(key: "\(path).d1", problem: "D0 and D1 must be different lines") }
    }
}
