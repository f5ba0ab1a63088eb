public import Foundation
public import GateCore

/// Everything `optgated` reads from its configuration file. Every key, its type, default and range is
/// documented in `docs/configuration.md`; unknown keys and out-of-range values refuse to start.
public struct DaemonConfiguration: Sendable {
    /// One door (or gate) the daemon controls.
    public struct Door: Sendable, Hashable {
        public enum RelayPolarity: String, Sendable, Hashable, CaseIterable {
            /// Electric strike: energised = released; loses power → stays locked.
            case failSecure
            /// Maglock: energised = locked; loses power → releases (fire-code egress).
            case failSafe
        }

        /// `name` (string, required, unique): shown in events and used by `--door`.
        public var name: String
        /// `methods` (array of face|card|pin, default ["card","pin"]): credential methods accepted.
        public var methods: Set<AccessMethod>
        /// `relay.pulseSeconds` (number, default 3, 0.1–30).
        /// `heldOpenSeconds` (number, default 30, 1–255).
        public var timings: DoorTimings
        /// `relay.polarity` (failSecure|failSafe, default failSecure).
        public var polarity: RelayPolarity
        /// `gpio` (object, default none: the door is simulated): relay and input lines (docs/hardware.md).
        public var gpio: DoorGPIOConfiguration? = nil
        /// `verifyMode` (any|card+pin|face+pin|unit+pin, default any) and `antiPassback` (object, default none):
        /// docs/configuration.md#access-rules.
        public var verifyMode: VerifyMode = .any
        public var antiPassback: AntiPassback? = nil
        /// `visitorQR` (bool, default false): the camera serving this door (`face.door`, `face.source`) reads
        /// visitor passes' QR codes (docs/visitors.md), alongside face entry or, without it, only those.
        public var visitorQR: Bool = false
    }

    public var doors: [Door]
    /// `keypad.mode` (unitPin|pin, default pin; the shipped file sets unitPin), `keypad.minDigits` (4–12,
    /// default 6), `keypad.maxDigits` (4–12, default the larger of 8 and minDigits, ≥ minDigits),
    /// `keypad.interDigitTimeoutSeconds` (1–60, default 5).
    public var pinEntry: PinEntryRules
    /// `keypad.lockoutFailures` (1–100, default 5), `keypad.doorLockoutFailures` (1–1000, default 10),
    /// `keypad.lockoutWindowSeconds` (1–86400, default 3600), `keypad.lockoutSeconds` (1–86400, default 60),
    /// `keypad.lockoutMaxSeconds` (≥ lockoutSeconds, ≤ 86400, default 3600), `keypad.lockoutResetSeconds`
    /// (60–2592000, default 86400).
    public var lockout: LockoutRules
    /// `secondFactorSeconds` (1–120, default 10): how long a card+PIN or face+PIN door waits for the PIN.
    public var secondFactor: Duration = .seconds(10)
    /// `antiPassbackPresenceHours` (1–168, default 12): how long a resident counts as inside an area.
    public var presenceTimeout: Duration = .seconds(12 * 3600)
    /// `antiPassbackDailyReset` ("HH:MM" local time, default none): everyone counts as outside every area again.
    public var presenceDailyReset: DailyTime? = nil
    /// The rules `optgate pin set` applies to a new PIN: the keypad's digit limits.
    public var pinStrength: PinStrength {
        PinStrength(minimumDigits: pinEntry.minimumDigits, maximumDigits: pinEntry.maximumDigits)
    }
    /// `retention.accessEventDays` (1–3650, default 180): older access and alarm events are blanked.
    public var accessEventRetentionDays: Int
    /// `retention.consentLedgerDays`, `retention.assessmentDays` (≥ 1096 when given): docs/compliance.md.
    public var complianceRetention = ComplianceRetention()
    /// The `compliance` section: filing thresholds, controller and contact (docs/compliance.md).
    public var compliance = ComplianceConfiguration()
    /// The `face` section (docs/configuration.md#face).
    public var face: FaceConfiguration
    /// Whether face entry runs: a door accepts face and a frame source is configured.
    public var faceEntryConfigured: Bool {
        doors.contains { $0.methods.contains(.face) } && (face.replay != nil || face.camera != nil)
    }
    /// The `readers` array (docs/configuration.md#readers): keypads, wedge and PC/SC card readers.
    /// Read at startup; a reload that changes it takes effect at the next restart.
    public var readers: [ReaderConfiguration]
    /// `control.socketPath` (string, default `<state dir>/control.sock`).
    public var controlSocketPath: String?
    /// `control.group` (string, default none): group given access to the socket (mode 0660).
    public var controlGroup: String?
    /// `site.timeZone` (IANA zone name, default `Asia/Shanghai`): schedules, holidays and move-out days are
    /// read in this zone's civil time, whatever the system's zone is.
    public var siteTimeZone: SiteTimeZone = .shanghai
    /// The `fleet` section (docs/fleet.md): the hub this gate replicates from; `nil` on a single box.
    public var fleet: FleetConfiguration? = nil

    /// The configuration used without a file: one door `main` with card and PIN.
    public static let defaults = try! DaemonConfiguration(json: Data("{}".utf8))

    public init(json data: Data) throws(ConfigurationError) {
        var root = try ConfigObject.parse(json: data)
        var doors: [Door] = []
        if let entries = try root.objectArray("doors") {
            guard !entries.isEmpty else { throw ConfigurationError(key: "doors", problem: "at least one door is needed") }
            for var entry in entries {
                doors.append(try Self.door(&entry))
                try entry.finish()
            }
        } else {
            var empty = ConfigObject(path: "doors[0]", values: ["name": .string("main")])
            doors.append(try Self.door(&empty))
        }
        var names = Set<String>()
        for (index, door) in doors.enumerated() where !names.insert(door.name).inserted {
            throw ConfigurationError(key: "doors[\(index)].name", problem: "\"\(door.name)\" is used by another door")
        }
        self.doors = doors

        var keypad = try root.object("keypad")
        let mode = try keypad.choice("mode", default: KeypadMode.pin)
        let minDigits = try keypad.integer("minDigits", default: 6, range: 4...12)
        let maxDigits = try keypad.integer("maxDigits", default: max(8, minDigits), range: 4...12)
        guard maxDigits >= minDigits else {
            throw ConfigurationError(key: "keypad.maxDigits", problem: "must be at least keypad.minDigits (\(minDigits))")
        }
        pinEntry = PinEntryRules(
            minimumDigits: minDigits, maximumDigits: maxDigits,
            interDigitTimeout: .seconds(try keypad.number("interDigitTimeoutSeconds", default: 5, range: 1...60)),
            mode: mode
        )
        let firstLockout = try keypad.number("lockoutSeconds", default: 60, range: 1...86_400)
        let maximumLockout = try keypad.number("lockoutMaxSeconds", default: max(3600, firstLockout), range: 1...86_400)
        guard maximumLockout >= firstLockout else {
            throw ConfigurationError(key: "keypad.lockoutMaxSeconds", problem: "must be at least keypad.lockoutSeconds (\(firstLockout))")
        }
        lockout = LockoutRules(
            failures: try keypad.integer("lockoutFailures", default: 5, range: 1...100),
            doorFailures: try keypad.integer("doorLockoutFailures", default: 10, range: 1...1000),
            window: .seconds(try keypad.number("lockoutWindowSeconds", default: 3600, range: 1...86_400)),
            firstLockout: .seconds(firstLockout),
            maximumLockout: .seconds(maximumLockout),
            reset: .seconds(try keypad.number("lockoutResetSeconds", default: 86_400, range: 60...2_592_000))
        )
        try keypad.finish()
        (secondFactor, presenceTimeout, presenceDailyReset) = try Self.readAccessRuleKeys(&root)

        var retention = try root.object("retention")
        accessEventRetentionDays = try retention.integer("accessEventDays", default: 180, range: 1...3650)
        complianceRetention = try Self.readComplianceRetention(&retention)
        try retention.finish()
        compliance = try Self.readCompliance(&root)

        var faceObject = try root.object("face")
        face = try FaceConfiguration(&faceObject, doors: doors)

        readers = try ReaderConfiguration.parseAll(&root, doors: doors)

        var control = try root.object("control")
        controlSocketPath = try control.string("socketPath", default: nil)
        controlGroup = try control.string("group", default: nil)
        try control.finish()

        var site = try root.object("site")
        let zone = try site.string("timeZone", default: "Asia/Shanghai") ?? "Asia/Shanghai"
        // China Standard Time is built in, for a system without zone data.
        guard let loaded = SiteTimeZone.load(identifier: zone) ?? (zone == "Asia/Shanghai" ? .shanghai : nil) else {
            throw ConfigurationError(key: "site.timeZone", problem: "\"\(zone)\" is not a time zone this system knows (e.g. Asia/Shanghai)")
        }
        siteTimeZone = loaded
        try site.finish()
        fleet = try FleetConfiguration.parse(&root)
        try root.finish()
        try checkVerifyModes()
    }

    /// Reads and validates a configuration file.
    public init(contentsOf path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(key: "", problem: "cannot read \(path)")
        }
        try self.init(json: data)
    }

    private static func door(_ entry: inout ConfigObject) throws(ConfigurationError) -> Door {
        guard let name = try entry.string("name", default: nil) else {
            throw ConfigurationError(key: "\(entry.path).name", problem: "every door needs a name")
        }
        var methods = Set<AccessMethod>()
        for raw in try entry.stringArray("methods", default: ["card", "pin"]) {
            guard let method = AccessMethod(rawValue: raw), AccessMethod.credentialMethods.contains(method) else {
                throw ConfigurationError(key: "\(entry.path).methods", problem: "\"\(raw)\" is not one of: face, card, pin")
            }
            methods.insert(method)
        }
        // R1: face is never the only way in.
        guard !methods.isDisjoint(with: [.card, .pin]) else {
            throw ConfigurationError(
                key: "\(entry.path).methods",
                problem: "door \"\(name)\" must accept card or PIN as well: face may never be the only way in"
            )
        }
        var relay = try entry.object("relay")
        let pulse = try relay.number("pulseSeconds", default: 3, range: 0.1...30)
        let polarity = try relay.choice("polarity", default: Door.RelayPolarity.failSecure)
        try relay.finish()
        let heldOpen = try entry.number("heldOpenSeconds", default: 30, range: 1...255)
        var gpio: DoorGPIOConfiguration?
        if entry.has("gpio") {
            var object = try entry.object("gpio")
            gpio = try DoorGPIOConfiguration(&object)
            try object.finish()
        }
        var door = Door(name: name, methods: methods, timings: DoorTimings(pulse: .seconds(pulse), heldOpen: .seconds(heldOpen)),
                        polarity: polarity, gpio: gpio)
        try readAccessRuleKeys(&entry, into: &door)
        door.visitorQR = try entry.bool("visitorQR", default: false)
        return door
    }
}
