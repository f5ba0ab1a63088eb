/// The OSDP keys of one `readers[i]` entry with `"kind": "osdp"` (docs/configuration.md#readers).
public struct OSDPReaderSettings: Sendable, Hashable {
    static let keys = ["address", "baud", "insecure", "pollIntervalMilliseconds", "offlineTimeoutMilliseconds"]

    /// `address` (integer, 0–126, default 0): the PD address on the bus; readers on one line differ in it.
    public var address: UInt8 = 0
    /// `baud` (9600|19200|38400|57600|115200, default 9600).
    public var baud: Int = 9600
    /// `insecure` (boolean, default false): drive the reader without the secure channel. Printed by
    /// `config check` and `status`; anyone on the wire can then read and inject card numbers.
    public var insecure = false
    /// `pollIntervalMilliseconds` (integer, 20–200, default 100).
    public var pollInterval: Duration = .milliseconds(100)
    /// `offlineTimeoutMilliseconds` (integer, 500–30000, default 2000): no valid reply for this long
    /// raises `readerOffline`.
    public var offlineTimeout: Duration = .seconds(2)

    public init() {}

    static func parse(_ entry: inout ConfigObject) throws(ConfigurationError) -> OSDPReaderSettings {
        var settings = OSDPReaderSettings()
        settings.address = UInt8(try entry.integer("address", default: 0, range: 0...126))
        let baud = try entry.integer("baud", default: 9600, range: 9600...115_200)
        guard [9600, 19200, 38400, 57600, 115_200].contains(baud) else {
            throw ConfigurationError(key: "\(entry.path).baud", problem: "must be one of 9600, 19200, 38400, 57600, 115200")
        }
        settings.baud = baud
        settings.insecure = try entry.bool("insecure", default: false)
        settings.pollInterval = .milliseconds(try entry.integer("pollIntervalMilliseconds", default: 100, range: 20...200))
        settings.offlineTimeout = .milliseconds(try entry.integer("offlineTimeoutMilliseconds", default: 2000, range: 500...30_000))
        return settings
    }
}

extension ReaderConfiguration {
    /// Sentences for readers configured below the secure default, for `config check` and `status`.
    public static func securityWarnings(_ readers: [ReaderConfiguration]) -> [String] {
        readers.filter { $0.kind == .osdp && $0.osdp.insecure }.map {
            "OSDP reader \($0.device ?? "?") address \($0.osdp.address) at door \"\($0.door)\" runs WITHOUT the secure channel " +
                "(insecure: true): anyone on its wires can read card numbers and PINs and inject their own"
        }
    }
}
