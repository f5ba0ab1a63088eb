public import GateCore

extension DaemonConfiguration {
    /// The settings the gate machine decides with.
    public var gateSettings: GateSettings {
        GateSettings(
            doors: doors.map {
                GateDoorSettings(name: $0.name, methods: $0.methods, timings: $0.timings, verifyMode: $0.verifyMode,
                                 antiPassback: $0.antiPassback, visitorQR: $0.visitorQR)
            },
            pinEntry: pinEntry, lockout: lockout, secondFactor: secondFactor, presenceTimeout: presenceTimeout
        )
    }

    /// `secondFactorSeconds`, `antiPassbackPresenceHours`, `antiPassbackDailyReset`.
    static func readAccessRuleKeys(_ root: inout ConfigObject) throws(ConfigurationError)
        -> (secondFactor: Duration, presence: Duration, reset: DailyTime?) {
        let secondFactor = Duration.seconds(try root.number("secondFactorSeconds", default: 10, range: 1...120))
        let presence = Duration.seconds(try root.number("antiPassbackPresenceHours", default: 12, range: 1...168) * 3600)
        guard let text = try root.string("antiPassbackDailyReset", default: nil) else { return (secondFactor, presence, nil) }
        guard let reset = DailyTime(text) else {
            throw ConfigurationError(key: "antiPassbackDailyReset", problem: "\"\(text)\" is not a time of day as HH:MM (00:00–23:59)")
        }
        return (secondFactor, presence, reset)
    }

    /// Every door's verify mode against its methods and the keypad mode: no mode may leave a resident
    /// without a way in (R1).
    func checkVerifyModes() throws(ConfigurationError) {
        for (index, door) in doors.enumerated() {
            if let problem = door.verifyModeProblem(keypad: pinEntry.mode) {
                throw ConfigurationError(key: "doors[\(index)].verifyMode", problem: problem)
            }
        }
    }

    /// A door's `verifyMode` and `antiPassback` keys.
    static func readAccessRuleKeys(_ entry: inout ConfigObject, into door: inout Door) throws(ConfigurationError) {
        door.verifyMode = try entry.choice("verifyMode", default: VerifyMode.any)
        guard entry.has("antiPassback") else { return }
        var object = try entry.object("antiPassback")
        guard let area = try object.string("area", default: nil), !area.isEmpty else {
            throw ConfigurationError(key: "\(object.path).area", problem: "anti-passback needs the name of the area the door leads into or out of")
        }
        guard object.has("direction") else {
            throw ConfigurationError(key: "\(object.path).direction", problem: "anti-passback needs a direction: entry or exit")
        }
        door.antiPassback = AntiPassback(area: area, direction: try object.choice("direction", default: AntiPassback.Direction.entry),
                                         mode: try object.choice("mode", default: AntiPassback.Mode.soft))
        try object.finish()
    }
}

extension DaemonConfiguration.Door {
    /// Why the door's verify mode would leave a resident without a way in, or `nil` when it does not.
    /// Face is never the only way in (R1): a face+PIN door lets a resident without a face use card + PIN.
    func verifyModeProblem(keypad: KeypadMode) -> String? {
        let missing: Set<AccessMethod> = switch verifyMode {
        case .any: []
        case .cardPin: Set<AccessMethod>([.card, .pin]).subtracting(methods)
        case .facePin: Set<AccessMethod>([.face, .card, .pin]).subtracting(methods)
        case .unitPin: Set<AccessMethod>([.pin]).subtracting(methods)
        }
        if !missing.isEmpty {
            let names = missing.map(\.rawValue).sorted().joined(separator: " and ")
            let why = verifyMode == .facePin && missing == [.card]
                ? "a resident without a face template would have no way in (face+PIN falls back to card+PIN)" : "the mode needs them"
            return "door \"\(name)\" uses \(verifyMode.rawValue) but does not accept \(names): \(why)"
        }
        if verifyMode == .unitPin, keypad != .unitPin {
            return "door \"\(name)\" uses unit+pin but keypad.mode is pin: nobody could type a unit code, so nobody could get in"
        }
        return nil
    }

    /// The coil level that releases or engages the lock, given the relay's polarity.
    public func energized(unlocked: Bool) -> Bool {
        switch polarity {
        case .failSecure: unlocked
        case .failSafe: !unlocked
        }
    }
}

/// A time of day, `HH:MM`, in the site's time zone (`site.timeZone`), like every schedule.
public struct DailyTime: Sendable, Hashable {
    public var hour: Int
    public var minute: Int

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
              let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        self.hour = hour
        self.minute = minute
    }

    /// How long from `wall` until this time of day next comes round in `zone` (never zero). The same
    /// civil-time conversion the schedules use, so a gate box whose system clock is in UTC still resets at
    /// the site's local hour.
    public func interval(after wall: WallTime, in zone: SiteTimeZone) -> Duration {
        let minuteOfDay = hour * 60 + minute
        let today = zone.local(wall).date
        var next = zone.wallTime(of: today, minute: minuteOfDay)
        if next <= wall { next = zone.wallTime(of: today.adding(days: 1), minute: minuteOfDay) }
        return .milliseconds(next.millisecondsSince1970 - wall.millisecondsSince1970)
    }
}
