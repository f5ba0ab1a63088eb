/// What the compound's rules say about one resident at one door at one moment, before the door's own
/// state (fire, lockdown, anti-passback) is considered.
public enum RuleVerdict: Sendable, Hashable {
    /// The resident may pass here now, presenting what `VerifyMode` asks for.
    case allowed(VerifyMode)
    /// Refused by the rules: `notYetValid`, `expired`, `notInGroup` or `outsideSchedule`.
    case denied(DecisionReason)
}

/// The compound's access rules as one value, loaded from the store and handed to the gate machine.
///
/// The default value keeps the behaviour of a box without rules: every resident, every door, always,
/// any one credential. A resident in no group is in the default group (all doors, always, any
/// credential) whatever else is configured.
///
/// Evaluation order for a resident: validity (`notYetValid`, `expired`), then group × door
/// (`notInGroup`), then group × time profile in the site's civil time (`outsideSchedule`), then the
/// verify mode of the groups that are open now (the least demanding wins).
public struct AccessRules: Sendable, Hashable {
    /// The site's time zone: schedules are read in its civil time.
    public var zone: SiteTimeZone
    public var profiles: [String: TimeProfile]
    public var calendar: HolidayCalendar
    public var groups: [String: AccessGroup]
    /// Doors held unlocked during a profile (passage), by door name: the profile's name.
    public var passage: [String: String]

    public init() {
        self.init(zone: .shanghai)
    }

    public init(zone: SiteTimeZone, profiles: [TimeProfile] = [], calendar: HolidayCalendar = HolidayCalendar(),
                groups: [AccessGroup] = [], passage: [String: String] = [:]) {
        self.zone = zone
        self.profiles = Dictionary(profiles.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        self.calendar = calendar
        self.groups = Dictionary(groups.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        self.passage = passage
    }

    /// No groups, schedules or calendars: everyone valid may pass every door at any time.
    public static let open = AccessRules()

    /// - Parameters:
    ///   - holder: the resident the credential belongs to.
    ///   - door: the door's name.
    ///   - wall: the current wall time.
    /// - Returns: whether, and how, the resident may pass `door` at `wall`.
    public func verdict(for holder: CredentialHolder, door: String, at wall: WallTime) -> RuleVerdict {
        if let from = holder.validFrom, wall < from { return .denied(.notYetValid) }
        if let until = holder.validUntil, until <= wall { return .denied(.expired) }
        if holder.groups.isEmpty { return .allowed(.any) }
        var atDoor = false
        var best: VerifyMode?
        var local: (date: LocalDate, millisecond: Int64)?
        for name in holder.groups {
            guard let group = groups[name], group.doors.contains(door) else { continue }
            atDoor = true
            if let profile = group.profile {
                if local == nil { local = zone.local(wall) }
                guard isOpen(profile, local!) else { continue }
            }
            if best == nil || Self.rank(group.mode) < Self.rank(best!) { best = group.mode }
        }
        guard atDoor else { return .denied(.notInGroup) }
        guard let best else { return .denied(.outsideSchedule) }
        // R1: a resident without a face template uses the card where the mode asks for a face.
        if best == .facePin && !holder.hasFace { return .allowed(.cardPin) }
        return .allowed(best)
    }

    /// Whether `door` is held unlocked for free passage at `wall` (a passage schedule).
    public func isPassage(door: String, at wall: WallTime) -> Bool {
        guard let profile = passage[door] else { return false }
        return isOpen(profile, zone.local(wall))
    }

    /// Whether the profile named `name` is open at `local`; an unknown profile is closed.
    public func isOpen(_ name: String, at wall: WallTime) -> Bool { isOpen(name, zone.local(wall)) }

    /// The next wall time after `wall` at which any verdict or passage state may change (a schedule
    /// segment's edge, midnight of a holiday), so the machine can set a timer; `nil` when nothing changes.
    public func nextChange(after wall: WallTime) -> WallTime? {
        let used = Set(groups.values.compactMap(\.profile)).union(passage.values)
        guard !used.isEmpty else { return nil }
        let local = zone.local(wall)
        let kind = calendar.kind(of: local.date)
        var next = zone.wallTime(of: local.date.adding(days: 1), minute: 0)
        for name in used {
            guard let profile = profiles[name] else { continue }
            for segment in profile.plan(on: local.date, kind: kind) {
                for edge in [segment.start, segment.end] where Int64(edge) * 60_000 > local.millisecond {
                    let time = zone.wallTime(of: local.date, minute: edge)
                    if wall < time && time < next { next = time }
                }
            }
        }
        return next > wall ? next : nil
    }

    private func isOpen(_ name: String, _ local: (date: LocalDate, millisecond: Int64)) -> Bool {
        guard let profile = profiles[name] else { return false }
        let minute = Int(local.millisecond / 60_000)
        return profile.plan(on: local.date, kind: calendar.kind(of: local.date)).contains { $0.contains(minute: minute) }
    }

    /// Fewer credentials first: where two groups open a door, the resident presents the lesser.
    static func rank(_ mode: VerifyMode) -> Int {
        switch mode {
        case .any: 0
        case .cardPin: 1
        case .unitPin: 2
        case .facePin: 3
        }
    }
}
