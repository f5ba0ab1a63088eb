public import GateCore

/// One credential reader (`readers[i]`, docs/configuration.md#readers and docs/readers.md).
public struct ReaderConfiguration: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A USB PIN pad (evdev): each key goes to the door's PIN entry.
        case keypad
        /// A keyboard-wedge card reader (evdev): digits or hex + Enter are a card number.
        case wedge
        /// An NFC/contactless reader through pcscd.
        case pcsc
        /// An OSDP v2 reader (cards and keypad) on an RS-485 line, secure channel required (docs/readers.md#osdp).
        case osdp
        /// A Wiegand card reader or keypad on two GPIO lines (docs/readers.md#wiegand).
        case wiegand
    }

    /// `door` (string, required): a name from `doors`.
    public var door: String
    /// `kind` (keypad|wedge|pcsc, required).
    public var kind: Kind
    /// `device` (string, required for keypad and wedge): the evdev node, best `/dev/input/by-id/…-event-kbd`.
    public var device: String?
    /// `reader` (string, pcsc only, default every reader): only readers whose name contains this.
    public var reader: String?
    /// `interKeyTimeoutMilliseconds` (integer, wedge only, default 500, 50–5000).
    /// `format` (auto|decimal|hex, wedge only, default auto), `byteOrder` (bigEndian|littleEndian, wedge only,
    /// default bigEndian).
    public var wedge: WedgeRules
    /// `debounceMilliseconds` (integer, pcsc only, default 2000, 0–60000): the same card is not read
    /// again within this time.
    public var debounce: Duration
    /// `address`, `baud`, `insecure`, `pollIntervalMilliseconds`, `offlineTimeoutMilliseconds` (osdp only).
    public var osdp: OSDPReaderSettings = OSDPReaderSettings()
    /// `chip`, `d0`, `d1`, `frameGapMilliseconds`, `minimumBitIntervalMicroseconds` (wiegand only).
    public var wiegand: WiegandReaderSettings = WiegandReaderSettings()

    static func parse(_ entry: inout ConfigObject, doors: [DaemonConfiguration.Door]) throws(ConfigurationError) -> ReaderConfiguration {
        let path = entry.path
        guard let door = try entry.string("door", default: nil) else {
            throw ConfigurationError(key: "\(path).door", problem: "every reader needs the door it serves")
        }
        guard let served = doors.first(where: { $0.name == door }) else {
            let names = doors.map { "\"\($0.name)\"" }.joined(separator: ", ")
            throw ConfigurationError(key: "\(path).door", problem: "\"\(door)\" is not a configured door (doors: \(names))")
        }
        guard try entry.string("kind", default: nil) != nil else {
            throw ConfigurationError(key: "\(path).kind", problem: "every reader needs a kind: keypad, wedge or pcsc")
        }
        let kind = try entry.choice("kind", default: Kind.pcsc)
        let method: AccessMethod = kind == .keypad ? .pin : .card
        guard served.methods.contains(method) || ([.osdp, .wiegand].contains(kind) && served.methods.contains(.pin)) else {
            throw ConfigurationError(
                key: "\(path).kind",
                problem: "door \"\(door)\" does not accept \(method.rawValue), so a \(kind.rawValue) reader there could only deny"
            )
        }

        /// Refuses `key` for the reader kinds in `kinds`.
        func refuse(_ key: String, for kinds: Set<Kind>, _ entry: ConfigObject) throws(ConfigurationError) {
            guard kinds.contains(kind), entry.has(key) else { return }
            let names = Kind.allCases.filter { !kinds.contains($0) }.map(\.rawValue)
            let allowed = names.count > 1 ? names.dropLast().joined(separator: ", ") + " and " + names.last! : names.joined()
            throw ConfigurationError(key: "\(path).\(key)", problem: "applies to \(allowed) readers only, not \(kind.rawValue)")
        }
        try refuse("device", for: [.pcsc, .wiegand], entry)
        try refuse("reader", for: [.keypad, .wedge, .osdp, .wiegand], entry)
        try refuse("interKeyTimeoutMilliseconds", for: [.keypad, .pcsc, .osdp, .wiegand], entry)
        try refuse("format", for: [.keypad, .pcsc, .osdp, .wiegand], entry)
        try refuse("byteOrder", for: [.keypad, .pcsc, .osdp, .wiegand], entry)
        try refuse("debounceMilliseconds", for: [.keypad, .wedge, .osdp, .wiegand], entry)
        for key in OSDPReaderSettings.keys { try refuse(key, for: [.keypad, .wedge, .pcsc, .wiegand], entry) }
        for key in WiegandReaderSettings.keys { try refuse(key, for: [.keypad, .wedge, .pcsc, .osdp], entry) }
        let osdp = try OSDPReaderSettings.parse(&entry)
        let wiegand = try WiegandReaderSettings.parse(&entry)
        if kind == .wiegand { try wiegand.validate(path: path, entry: entry) }

        let device = try entry.string("device", default: nil)
        if kind != .pcsc && kind != .wiegand {
            guard let device else {
                let example = kind == .osdp ? "its serial line, e.g. /dev/ttyUSB0" : "its evdev device, e.g. /dev/input/by-id/usb-…-event-kbd"
                throw ConfigurationError(key: "\(path).device", problem: "a \(kind.rawValue) reader needs \(example)")
            }
            guard device.hasPrefix("/") else {
                throw ConfigurationError(key: "\(path).device", problem: "\"\(device)\" is not an absolute path")
            }
        }
        let reader = try entry.string("reader", default: nil)
        let interKey = try entry.integer("interKeyTimeoutMilliseconds", default: 500, range: 50...5000)
        let format = try entry.choice("format", default: WedgeNumberFormat.auto)
        let byteOrder = try entry.choice("byteOrder", default: WedgeByteOrder.bigEndian)
        let debounce = try entry.integer("debounceMilliseconds", default: 2000, range: 0...60_000)
        return ReaderConfiguration(
            door: door, kind: kind, device: device, reader: reader,
            wedge: WedgeRules(format: format, byteOrder: byteOrder, interKeyTimeout: .milliseconds(interKey)),
            debounce: .milliseconds(debounce), osdp: osdp, wiegand: wiegand
        )
    }

    static func parseAll(_ root: inout ConfigObject, doors: [DaemonConfiguration.Door]) throws(ConfigurationError) -> [ReaderConfiguration] {
        guard let entries = try root.objectArray("readers") else { return [] }
        var readers: [ReaderConfiguration] = []
        var devices: [String: Int] = [:]
        for (index, var entry) in entries.enumerated() {
            let reader = try parse(&entry, doors: doors)
            try entry.finish()
            // OSDP readers share a bus: one device, one address each.
            if let device = reader.device {
                let device = reader.kind == .osdp ? "\(device)#\(reader.osdp.address)" : device
                if let other = devices[device] {
                    throw ConfigurationError(key: "readers[\(index)].device", problem: "\(device) is already used by readers[\(other)]")
                }
                devices[device] = index
            }
            readers.append(reader)
        }
        return readers
    }
}
