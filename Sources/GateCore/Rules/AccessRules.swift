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
/// any one credential.
public struct AccessRules: Sendable, Hashable {
    public init() {}

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
        return .allowed(.any)
    }

    /// Whether `door` is held unlocked for free passage at `wall` (a passage schedule).
    public func isPassage(door: String, at wall: WallTime) -> Bool { false }

    /// The next wall time after `wall` at which any verdict or passage state may change (a schedule
    /// segment's edge, midnight of a holiday), so the machine can set a timer; `nil` when nothing changes.
    public func nextChange(after wall: WallTime) -> WallTime? { nil }
}
